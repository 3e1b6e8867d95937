import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { isPortalAdmin } from '../placements/app-page.js';
import { type BlockView, loadBlock, runBlockAction } from '../placements/block.js';
import {
  openWidget,
  resumeWidget,
  type WidgetBase,
  type WidgetContext,
  type WidgetDeps,
} from '../placements/context.js';
import type { Flash } from '../placements/messages.js';
import { BLOCK_PATH, SETTINGS_PATH } from '../placements/registry.js';
import {
  loadSettings,
  OFFERED_TYPES_OPTION,
  runSettingsAction,
  type SettingsView,
} from '../placements/settings.js';

/** Settings actions only a portal administrator is offered (trash affects the whole site, options every site). */
const ADMIN_ONLY_SETTINGS = new Set(['trash', 'restore', 'options']);

/** What every page the portal frames needs from the app's services (widgets and the app page). */
export function widgetDeps(app: FastifyInstance): WidgetDeps {
  return {
    store: app.installations,
    heal: (installation, tokens) => app.installer.heal(installation, tokens),
    confirmAddress: (installation, domain) => app.installer.confirmAddress(installation, domain),
    recent: app.recentInstallations,
    clients: app.clients,
    signer: app.pageContext,
    verifier: app.userVerifier,
    allowHttp: app.config.bitrix24.allowHttp,
  };
}

/** One module per placement; each has its open (Bitrix24's POST) and its action (our form). */
const placements: FastifyPluginAsync = async (app) => {
  const deps = widgetDeps(app);
  const html = { config: { html: true }, preHandler: app.portalRateLimit };

  const settingsView = (ctx: WidgetBase<'settings'>): Promise<SettingsView> =>
    loadSettings(ctx.client, Number(ctx.options.SITE_ID), app.installations, ctx.installation.id);

  const blockView = async (ctx: WidgetBase<'block'>): Promise<BlockView> => {
    const options = await app.installations.getOptions(ctx.installation.id);
    return loadBlock(ctx.client, ctx.options, options[OFFERED_TYPES_OPTION]);
  };

  function render<K extends 'settings' | 'block'>(
    reply: FastifyReply,
    ctx: WidgetContext<K>,
    view: SettingsView | BlockView,
    flash: (Flash & { refreshBlock?: number }) | null,
  ) {
    const path = ctx.kind === 'settings' ? SETTINGS_PATH : BLOCK_PATH;
    // Exactly what the templates read: nothing else of the context (its client, the
    // installation) reaches a page.
    const data = {
      lang: ctx.lang,
      t: ctx.t,
      token: ctx.token,
      admin: ctx.admin,
      view,
      flash,
      action: `${path}/action`,
    };
    return reply.allowFraming(ctx.origin).view(ctx.kind, data);
  }

  /**
   * What the user sees, from the view cache (a reopen within seconds costs the portal nothing),
   * or, on a cold open, as loaded together with the user's verification.
   */
  function viewOf<K extends 'settings' | 'block', V>(
    ctx: WidgetContext<K> & { preloaded?: V },
    what: string,
    load: () => Promise<V>,
  ): Promise<V> {
    const { memberId } = ctx.installation;
    if (ctx.preloaded !== undefined)
      return Promise.resolve(app.viewCache.put(memberId, ctx.userId, what, ctx.preloaded));
    return app.viewCache.get(memberId, ctx.userId, what, load);
  }
  const cachedSettings = (ctx: WidgetContext<'settings'> & { preloaded?: SettingsView }) =>
    viewOf(ctx, `settings:${ctx.options.SITE_ID}`, () => settingsView(ctx));
  const cachedBlock = (ctx: WidgetContext<'block'> & { preloaded?: BlockView }) =>
    viewOf(ctx, `block:${ctx.options.LID}:${ctx.options.ID}`, () => blockView(ctx));

  app.post(SETTINGS_PATH, html, async (request, reply) => {
    const ctx = await openWidget(deps, 'settings', request.query, request.body, settingsView);
    return render(reply, ctx, await cachedSettings(ctx), null);
  });

  app.post(`${SETTINGS_PATH}/action`, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, 'settings', request.body);
    const action = (request.body as Record<string, unknown>).action;
    // Not offered to other users; refused to a forged form, with the portal asked afresh.
    if (ADMIN_ONLY_SETTINGS.has(String(action)) && !(ctx.admin && (await isPortalAdmin(ctx.client)))) {
      const refused: Flash = { kind: 'error', code: 'admin_only', text: ctx.t('errors.admin_only') };
      return render(reply.code(403), ctx, await cachedSettings(ctx), refused);
    }
    // An action compares against the portal's current state, never a cached one.
    const flash = await runSettingsAction(
      ctx.client,
      await settingsView(ctx),
      request.body as Record<string, unknown>,
      ctx.t,
      (options) => app.installations.setOptions(ctx.installation.id, options),
    );
    app.viewCache.invalidate(ctx.installation.memberId);
    return render(reply, ctx, await cachedSettings(ctx), flash);
  });

  app.post(BLOCK_PATH, html, async (request, reply) => {
    const ctx = await openWidget(deps, 'block', request.query, request.body, blockView);
    return render(reply, ctx, await cachedBlock(ctx), null);
  });

  app.post(`${BLOCK_PATH}/action`, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, 'block', request.body);
    const flash = await runBlockAction(
      ctx.client,
      await blockView(ctx),
      request.body as Record<string, unknown>,
      ctx.t,
    );
    app.viewCache.invalidate(ctx.installation.memberId);
    return render(reply, ctx, await cachedBlock(ctx), flash);
  });
};

export default placements;
