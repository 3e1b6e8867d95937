import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler limiting requests per portal (member_id named in the payload). */
    portalRateLimit(request: FastifyRequest): Promise<void>;
  }
}

export interface RateLimitsOptions {
  perIpPerMinute: number;
  perPortalPerMinute: number;
}

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

const tooMany = (what: string) => (_request: FastifyRequest, context: { statusCode: number }) =>
  new AppError(context.statusCode, 'rate_limited', `Too many requests ${what}. Wait a minute and try again.`);

export default fp<RateLimitsOptions>(
  async (app, options) => {
    await app.register(rateLimit, {
      global: true,
      max: options.perIpPerMinute,
      timeWindow: '1 minute',
      allowList: (request) => request.url === '/healthz',
      errorResponseBuilder: tooMany('from your address'),
    });
    // A second limiter on the same request: app.rateLimit() would skip it (the plugin marks a
    // request as limited once the per-IP check ran), so check with createRateLimit directly.
    const perPortal = app.createRateLimit({
      max: options.perPortalPerMinute,
      timeWindow: '1 minute',
      keyGenerator: portalKey,
    });
    app.decorate('portalRateLimit', async function portalRateLimit(request: FastifyRequest) {
      const verdict = await perPortal(request);
      if (!verdict.isAllowed && verdict.isExceeded) {
        throw new AppError(
          429,
          'rate_limited',
          'Too many requests for this portal. Wait a minute and try again.',
          {
            retryAfterSeconds: verdict.ttlInSeconds,
          },
        );
      }
    });
  },
  { name: 'rate-limits' },
);
