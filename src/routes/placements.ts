import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { loadBlock, runBlockAction } from '../placements/block.js';
import { openWidget, resumeWidget, type WidgetContext, type WidgetDeps } from '../placements/context.js';
import type { Flash } from '../placements/messages.js';
import { BLOCK_PATH, SETTINGS_PATH } from '../placements/registry.js';
import { loadSettings, OFFERED_TYPES_OPTION, runSettingsAction } from '../placements/settings.js';

/** One module per placement; each has its open (Bitrix24's POST) and its action (our form). */
const placements: FastifyPluginAsync = async (app) => {
  const deps: WidgetDeps = {
    store: app.installations,
    clients: app.clients,
    signer: app.pageContext,
    verifier: app.userVerifier,
    allowHttp: app.config.bitrix24.allowHttp,
  };
  const html = { config: { html: true }, preHandler: app.portalRateLimit };

  async function renderSettings(reply: FastifyReply, ctx: WidgetContext<'settings'>, flash: Flash | null) {
    const view = await loadSettings(
      ctx.client,
      Number(ctx.options.SITE_ID),
      app.installations,
      ctx.installation.id,
    );
    return reply
      .allowFraming(ctx.origin)
      .view('settings', { ...ctx, view, flash, action: `${SETTINGS_PATH}/action` });
  }

  app.post(SETTINGS_PATH, html, async (request, reply) => {
    const ctx = await openWidget(deps, 'settings', request.query, request.body);
    return renderSettings(reply, ctx, null);
  });

  app.post(`${SETTINGS_PATH}/action`, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, 'settings', request.body);
    const view = await loadSettings(
      ctx.client,
      Number(ctx.options.SITE_ID),
      app.installations,
      ctx.installation.id,
    );
    const flash = await runSettingsAction(
      ctx.client,
      view,
      request.body as Record<string, unknown>,
      ctx.t,
      (options) => app.installations.setOptions(ctx.installation.id, options),
    );
    return renderSettings(reply, ctx, flash);
  });

  async function renderBlock(
    reply: FastifyReply,
    ctx: WidgetContext<'block'>,
    flash: (Flash & { refreshBlock?: number }) | null,
  ) {
    const options = await app.installations.getOptions(ctx.installation.id);
    const view = await loadBlock(ctx.client, ctx.options, options[OFFERED_TYPES_OPTION]);
    return reply
      .allowFraming(ctx.origin)
      .view('block', { ...ctx, view, flash, action: `${BLOCK_PATH}/action` });
  }

  app.post(BLOCK_PATH, html, async (request, reply) => {
    const ctx = await openWidget(deps, 'block', request.query, request.body);
    return renderBlock(reply, ctx, null);
  });

  app.post(`${BLOCK_PATH}/action`, html, async (request, reply) => {
    const ctx = await resumeWidget(deps, 'block', request.body);
    const options = await app.installations.getOptions(ctx.installation.id);
    const view = await loadBlock(ctx.client, ctx.options, options[OFFERED_TYPES_OPTION]);
    const flash = await runBlockAction(ctx.client, view, request.body as Record<string, unknown>, ctx.t);
    return renderBlock(reply, ctx, flash);
  });
};

export default placements;
