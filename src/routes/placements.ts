import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { PlacementPayloads } from '../bitrix24/placement-payloads.js';
import type { PageOptions, WidgetBase, WidgetContext, WidgetDeps } from '../placements/context.js';
import { openWidget, resumeWidget } from '../placements/context.js';
import type { Flash } from '../placements/messages.js';
import type { ActionFlash, PlacementModule, PlacementServices } from '../placements/module.js';
import { RenderedPages } from '../placements/rendered-pages.js';

/** What @fastify/view sets for a page it renders. */
const HTML_TYPE = 'text/html; charset=utf-8';

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
    now: app.now,
    payloads: new PlacementPayloads(),
  };
}

/** Two routes per placement module: its open (Bitrix24's POST) and its action (our form). */
const placements: FastifyPluginAsync = async (app) => {
  const deps = widgetDeps(app);
  const services: PlacementServices = { options: app.installations };
  for (const module of app.placementModules) widgetRoutes(app, module, deps, services);
};

function widgetRoutes<O extends PageOptions, V>(
  app: FastifyInstance,
  module: PlacementModule<O, V>,
  deps: WidgetDeps,
  services: PlacementServices,
): void {
  const html = { config: { html: true }, preHandler: app.portalRateLimit };
  const actionPath = `${module.handlerPath}/action`;
  const load = (widget: WidgetBase<O>) => module.load(widget, services);

  // Exactly what the templates read: nothing else of the context (its client, the
  // installation) reaches a page.
  const pageData = (ctx: WidgetContext<O>, view: V, flash: ActionFlash | null) => ({
    lang: ctx.lang,
    t: ctx.t,
    token: ctx.token,
    admin: ctx.admin,
    view,
    flash,
    action: actionPath,
  });

  function render(reply: FastifyReply, ctx: WidgetContext<O>, view: V, flash: ActionFlash | null) {
    return reply.allowFraming(ctx.origin).view(module.name, pageData(ctx, view, flash));
  }

  /** A warm open sends the page it rendered before for the same view and sealed context. */
  const pages = new RenderedPages();
  async function renderOpen(reply: FastifyReply, ctx: WidgetContext<O>, view: V) {
    const key = {
      page: module.name,
      memberId: ctx.installation.memberId,
      userId: ctx.userId,
      token: ctx.token,
    };
    const page = await pages.get(key, view, () => reply.viewAsync(module.name, pageData(ctx, view, null)));
    return reply.allowFraming(ctx.origin).type(HTML_TYPE).send(page);
  }

  /**
   * What the user sees, from the view cache (a reopen within seconds costs the portal nothing),
   * or, on a cold open, as loaded together with the user's verification.
   */
  function viewOf(ctx: WidgetContext<O> & { preloaded?: V }): Promise<V> {
    const { memberId } = ctx.installation;
    const key = `${module.name}:${module.viewKey(ctx.options)}`;
    if (ctx.preloaded !== undefined)
      return Promise.resolve(app.viewCache.put(memberId, ctx.userId, key, ctx.preloaded));
    return app.viewCache.get(memberId, ctx.userId, key, () => load(ctx));
  }

  app.post(module.handlerPath, html, async (request, reply) => {
    const ctx = await openWidget(deps, module, request.query, request.body, load);
    return renderOpen(reply, ctx, await viewOf(ctx));
  });

  app.post(actionPath, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, module, request.body);
    const form = request.body as Record<string, unknown>;
    if (module.mayAct && !(await module.mayAct(ctx, form))) {
      const refused: Flash = { kind: 'error', code: 'admin_only', text: ctx.t('errors.admin_only') };
      return render(reply.code(403), ctx, await viewOf(ctx), refused);
    }
    // An action compares against the portal's current state, never a cached one.
    const flash = await module.act(ctx, await load(ctx), form, services);
    app.viewCache.invalidate(ctx.installation.memberId);
    return render(reply, ctx, await viewOf(ctx), flash);
  });
}

export default placements;
