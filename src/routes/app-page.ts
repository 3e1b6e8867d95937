import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import {
  APP_PAGE,
  type AppPageOptions,
  type AppPageView,
  isPortalAdmin,
  loadAppPage,
} from '../placements/app-page.js';
import { openWidget, resumeWidget, type WidgetBase, type WidgetContext } from '../placements/context.js';
import { explainFailure, type Flash } from '../placements/messages.js';
import { widgetDeps } from './placements.js';

export const APP_PAGE_ACTION = '/app/action';

/**
 * The app's own page at PUBLIC_URL/ (the handler path registered with the app): Bitrix24 POSTs
 * it like a widget after installFinish() and whenever a user opens the app. GET / answers a
 * plain visit.
 */
const appPage: FastifyPluginAsync = async (app) => {
  const deps = widgetDeps(app);
  const html = { config: { html: true }, preHandler: app.portalRateLimit };

  /** `admin` unknown (a cold open): loaded as for an administrator, and dropped below if not. */
  const load = (ctx: WidgetBase<AppPageOptions>, admin = true) =>
    loadAppPage(ctx.client, ctx.installation, app.installations, app.installer.desired(ctx.lang), admin);
  const nothingForUsers: AppPageView = { admin: false, state: null };

  function render(
    reply: FastifyReply,
    ctx: WidgetContext<AppPageOptions>,
    view: AppPageView,
    flash: Flash | null,
  ) {
    const data = { lang: ctx.lang, t: ctx.t, token: ctx.token, view, flash, action: APP_PAGE_ACTION };
    return reply.header('cache-control', 'no-store').allowFraming(ctx.origin).view('app', data);
  }

  app.get('/', { config: { html: true } }, async (_request, reply) =>
    reply.view('app-visit', { title: 'Bitrix24 Sites app' }),
  );

  app.post('/', html, async (request, reply) => {
    // A cold open verifies the user in the same batch that reads the page's data.
    const ctx = await openWidget(deps, APP_PAGE, request.query, request.body, (widget) => load(widget));
    const view = !ctx.admin ? nothingForUsers : (ctx.preloaded ?? (await load(ctx)));
    return render(reply, ctx, view, null);
  });

  app.post(APP_PAGE_ACTION, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, APP_PAGE, request.body);
    const action = (request.body as Record<string, unknown>).action;
    // Asked afresh: the page's forms are signed for a user, not for their rights.
    if (action !== 'resync' || !(ctx.admin && (await isPortalAdmin(ctx.client)))) {
      const refused: Flash = { kind: 'error', code: 'admin_only', text: ctx.t('errors.admin_only') };
      return render(reply.code(403), ctx, ctx.admin ? await load(ctx) : nothingForUsers, refused);
    }
    let flash: Flash;
    try {
      const report = await app.installer.bind(ctx.installation, ctx.lang);
      flash = report.failed.length
        ? {
            kind: 'error',
            code: 'resync_failed',
            text: ctx.t('app.resync.failed', { count: report.failed.length }),
          }
        : { kind: 'ok', text: ctx.t('app.resync.done', { count: report.bound.length }) };
    } catch (error) {
      flash = explainFailure(error, ctx.t);
    }
    app.viewCache.invalidate(ctx.installation.memberId);
    return render(reply, ctx, await load(ctx, ctx.admin), flash);
  });
};

export default appPage;
