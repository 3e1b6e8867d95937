import type { FastifyInstance } from 'fastify';
import { type EmulatorContext, type PortalOf, portalDomain } from '../context.js';
import { type FramePayload, installPayload, placementPayload, visiblePlacements } from '../frames.js';
import { isPlainObject, toInt } from '../params.js';
import type { PortalState } from '../types.js';
import { asset } from './assets.js';
import { frameEvent } from './frame-events.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside <script>: `<` escaped so no string can close the tag. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

function shell(ctx: EmulatorContext, portal: PortalState): string {
  const config = {
    apiBase: '/_emulator/api',
    memberId: portal.memberId,
    domain: portalDomain(ctx, portal),
    lang: portal.lang,
    adminUserId: ctx.state.user(portal).id,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sites — ${escapeHtml(portal.title)}</title>
<link rel="stylesheet" href="/_emulator/editor.css">
</head>
<body>
<div id="app"></div>
<div class="layout"><div class="main"><div class="panel">
<h3>Event log</h3>
<ol id="event-log" class="log" data-testid="event-log"></ol>
</div></div></div>
<script>window.__EMULATOR__ = ${scriptJson(config)};</script>
<script src="/_emulator/editor.js"></script>
</body>
</html>`;
}

/** What the editor page renders: the portal as the chosen user sees it. */
function viewModel(ctx: EmulatorContext, portal: PortalState) {
  const blocksOf = (pageId: number) =>
    [...portal.blocks.values()]
      .filter((b) => b.pageId === pageId && !b.deleted)
      .sort((a, b) => a.sort - b.sort)
      .map((b) => ({
        id: b.id,
        code: b.code,
        name: b.name,
        content: b.content,
        refreshCount: b.refreshCount,
      }));
  return {
    portal: { memberId: portal.memberId, title: portal.title, domain: portalDomain(ctx, portal) },
    users: [...portal.users.values()].map((u) => ({
      id: u.id,
      name: `${u.name} ${u.lastName}`.trim(),
      admin: u.admin,
    })),
    apps: [...ctx.state.apps.keys()].map((clientId) => {
      const inst = portal.apps.get(clientId);
      return {
        clientId,
        installed: inst?.installed ?? false,
        installFinished: inst?.installFinished ?? false,
      };
    }),
    sites: [...portal.sites.values()].map((s) => ({
      id: s.id,
      title: s.title,
      type: s.type,
      deleted: s.deleted,
      pages: [...portal.pages.values()]
        .filter((p) => p.siteId === s.id && !p.deleted)
        .map((p) => ({ id: p.id, title: p.title, code: p.code, blocks: blocksOf(p.id) })),
    })),
    placements: visiblePlacements(portal).map((p) => ({
      clientId: p.clientId,
      placement: p.placement,
      handler: p.handler,
      title: p.title,
    })),
  };
}

function openFrame(ctx: EmulatorContext, portal: PortalState, body: Record<string, unknown>): FramePayload {
  const userId = toInt(body.userId);
  const lang = typeof body.lang === 'string' ? body.lang : undefined;
  const payload =
    body.kind === 'install'
      ? installPayload(ctx, portal, { clientId: body.clientId as string | undefined, userId, lang })
      : placementPayload(ctx, portal, {
          placement: String(body.placement ?? ''),
          handler: typeof body.handler === 'string' ? body.handler : undefined,
          userId,
          lang,
          siteId: toInt(body.siteId),
          landingId: toInt(body.landingId),
          blockId: toInt(body.blockId),
        });
  ctx.frames.set(payload.frameId, payload);
  return payload;
}

/** The portal's own pages: the Sites editor at `/` and the small JSON API its script uses. */
export function registerEditor(app: FastifyInstance, ctx: EmulatorContext, portalOf: PortalOf): void {
  app.get('/', async (req, reply) => reply.type('text/html; charset=utf-8').send(shell(ctx, portalOf(req))));
  app.get('/_emulator/editor.js', async (_req, reply) =>
    reply.type('application/javascript; charset=utf-8').send(asset('editor.js')),
  );
  app.get('/_emulator/editor.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').send(asset('editor.css')),
  );
  app.get('/_emulator/api/state', async (req) => viewModel(ctx, portalOf(req)));
  app.post('/_emulator/api/open', async (req, reply) => {
    const portal = portalOf(req);
    try {
      return openFrame(ctx, portal, isPlainObject(req.body) ? req.body : {});
    } catch (e) {
      return reply.code(400).send({ error: 'OPEN_FAILED', message: (e as Error).message });
    }
  });
  app.post('/_emulator/api/frame-event', async (req, reply) => {
    const portal = portalOf(req);
    const body = isPlainObject(req.body) ? req.body : {};
    const frame = ctx.frames.get(String(body.frameId ?? ''));
    if (!frame || frame.memberId !== portal.memberId) {
      return reply.code(404).send({ error: 'UNKNOWN_FRAME', message: 'Unknown frame' });
    }
    return frameEvent(ctx, portal, frame, String(body.command ?? ''), body.params ?? null);
  });
  app.get('/pub/site/:site/:page/', async (req, reply) => {
    const portal = portalOf(req);
    const { site, page } = req.params as { site: string; page: string };
    const s = [...portal.sites.values()].find((x) => x.code === site);
    const p = s && [...portal.pages.values()].find((x) => x.siteId === s.id && x.code === page);
    if (!p) return reply.code(404).type('text/html').send('<h1>404</h1>');
    const blocks = [...portal.blocks.values()]
      .filter((b) => b.pageId === p.id && !b.deleted)
      .sort((a, b) => a.sort - b.sort);
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(p.title)}</title><link rel="stylesheet" href="/_emulator/editor.css"></head><body>${blocks.map((b) => `<div id="b${b.id}">${b.content}</div>`).join('')}</body></html>`,
      );
  });
}
