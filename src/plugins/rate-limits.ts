// Two request limits, each a window of a minute: per client address on every route but the
// health check (onRequest), and per portal on the routes a portal or our forms post to (the
// routes' preHandler, once the body names the portal). A refusal is 429 `rate_limited` with
// Retry-After; the per-address one also says its limit in x-ratelimit-* headers.
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';
import { addressKey, RequestWindows, type Window } from './request-windows.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler limiting requests per portal (member_id named in the payload). */
    portalRateLimit: preHandlerHookHandler;
  }
}

export interface RateLimitsOptions {
  perIpPerMinute: number;
  perPortalPerMinute: number;
}

const MINUTE_MS = 60_000;

/** `source[key]` of a parsed body; a string or number body has no such member (undefined). */
function field(source: unknown, key: string): unknown {
  return (source as Record<string, unknown> | null | undefined)?.[key];
}

/** The portal a request claims to come from; unverified, which is fine for counting. */
function portalKey(request: FastifyRequest): string {
  const memberId = field(request.body, 'member_id') ?? field(field(request.body, 'auth'), 'member_id');
  if (typeof memberId === 'string' && memberId.length <= 64) return `portal:${memberId}`;
  // Our own forms carry the sealed page context instead; its first part names the portal.
  const ctx = field(request.body, 'ctx');
  if (typeof ctx === 'string') return `portal:${ctx.slice(0, Math.max(0, ctx.indexOf('.'))).slice(0, 64)}`;
  return `ip:${request.ip}`;
}

/** Whole seconds until the window closes: at least 1, since `hit` only returns an open window. */
const secondsLeft = (window: Window, now: number) => Math.ceil((window.resetAt - now) / 1000);

const refusal = (what: string, retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', `Too many requests ${what}. Wait a minute and try again.`, {
    retryAfterSeconds,
  });

export default fp<RateLimitsOptions>(
  async (app, options) => {
    const perAddress = new RequestWindows(MINUTE_MS);
    const perPortal = new RequestWindows(MINUTE_MS);

    // Callback style: an async hook would cost every request a promise round trip.
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
      if (request.url === '/healthz') return done();
      const now = Date.now();
      const window = perAddress.hit(addressKey(request.ip), now);
      if (window.count <= options.perIpPerMinute) return done();
      const seconds = secondsLeft(window, now);
      reply.headers({
        'x-ratelimit-limit': options.perIpPerMinute,
        'x-ratelimit-remaining': 0,
        'x-ratelimit-reset': seconds,
      });
      done(refusal('from your address', seconds));
    });

    app.decorate('portalRateLimit', function portalRateLimit(request, _reply, done) {
      const now = Date.now();
      const window = perPortal.hit(portalKey(request), now);
      if (window.count <= options.perPortalPerMinute) return done();
      done(refusal('for this portal', secondsLeft(window, now)));
    } as preHandlerHookHandler);
  },
  { name: 'rate-limits' },
);
