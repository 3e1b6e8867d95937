import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runBatch } from './batch.js';
import type { EmulatorContext, PortalOf } from './context.js';
import { Errors, RestError } from './errors.js';
import { sleep } from './faults.js';
import { isPlainObject, type Params } from './params.js';
import { resolveAuth, restTime, runMethod } from './rest-core.js';
import type { PortalState } from './types.js';

/** REST is called from app iframes too (b24jssdk posts JSON), so it answers CORS like Bitrix24 does. */
function cors(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('Access-Control-Allow-Origin', '*');
  reply.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  const asked = req.headers['access-control-request-headers'];
  reply.header('Access-Control-Allow-Headers', typeof asked === 'string' ? asked : 'Content-Type');
}

interface Route {
  method: string;
  webhook?: { userId: number; code: string };
}

/** /rest/<method>[.json] for tokens, /rest/<user>/<code>/<method>[.json] for incoming webhooks. */
function parseRoute(path: string): Route | null {
  const segs = path.split('/').filter(Boolean);
  const strip = (m: string) => m.replace(/\.json$/i, '');
  if (segs.length === 1 && segs[0]) return { method: strip(segs[0]) };
  if (segs.length === 3 && segs[0] && segs[1] && segs[2] && /^\d+$/.test(segs[0])) {
    return { method: strip(segs[2]), webhook: { userId: Number(segs[0]), code: segs[1] } };
  }
  return null;
}

async function handle(
  ctx: EmulatorContext,
  portal: PortalState,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  cors(req, reply);
  const stats = ctx.stats.portal(portal.memberId);
  const send = (status: number, body: unknown) => {
    ctx.stats.restAnswer(portal.memberId, status);
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  };
  const route = parseRoute((req.params as Record<string, string>)['*'] ?? '');
  stats.restRequests++;
  if (!route) return send(404, Errors.methodNotFound().toJSON());
  const method = route.method;
  stats.restByMethod[method] = (stats.restByMethod[method] ?? 0) + 1;

  const latency = ctx.faults.latencyFor(method) + portal.latencyMs;
  if (latency > 0) await sleep(latency);
  const fault = ctx.faults.decide(method);
  if (fault.kind === 'drop') {
    stats.droppedConnections++;
    req.raw.socket.destroy();
    return reply.hijack();
  }
  if (!ctx.buckets.take(portal.memberId)) {
    stats.rateLimited++;
    return send(503, Errors.queryLimit().toJSON());
  }
  if (fault.kind === 'error') {
    stats.injectedErrors++;
    return send(fault.status, (fault.status === 503 ? Errors.queryLimit() : Errors.internal()).toJSON());
  }

  const params: Params = {
    ...(isPlainObject(req.query) ? req.query : {}),
    ...(isPlainObject(req.body) ? req.body : {}),
  };
  const token = params.auth;
  delete params.auth;
  try {
    const auth = resolveAuth(ctx, portal, token, route.webhook);
    if (method.toLowerCase() === 'batch') {
      const startMs = ctx.clock.now();
      const result = runBatch(ctx, portal, auth, params);
      const op = ctx.operating.record(portal.memberId, 'batch', auth.caller);
      return send(200, { result, time: restTime(startMs, ctx.clock.now(), op) });
    }
    const out = runMethod(ctx, portal, auth, method, params);
    const body: Record<string, unknown> = { result: out.result };
    if (out.next !== undefined) body.next = out.next;
    if (out.total !== undefined) body.total = out.total;
    body.time = out.time;
    return send(200, body);
  } catch (e) {
    if (e instanceof RestError) return send(e.status, e.toJSON());
    throw e;
  }
}

export function registerRest(app: FastifyInstance, ctx: EmulatorContext, portalOf: PortalOf): void {
  app.options('/rest/*', async (req, reply) => {
    cors(req, reply);
    return reply.code(204).send();
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/rest/*',
    handler: (req, reply) => handle(ctx, portalOf(req), req, reply),
  });
}
