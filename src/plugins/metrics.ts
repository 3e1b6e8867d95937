// GET /metrics in Prometheus format, when METRICS_ENABLED. Registered before the services so
// they send every Bitrix24 request through `outboundFetch`, which counts them.
import fp from 'fastify-plugin';
import { bearerToken, tokenMatches } from '../admin/bearer.js';
import { countingFetch } from '../admin/counting-fetch.js';
import { AppMetrics } from '../admin/metrics.js';
import type { HttpFetch } from '../bitrix24/http.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Null when metrics are off. */
    metrics: AppMetrics | null;
    /** The fetch the services use for Bitrix24 requests (counted when metrics are on). */
    outboundFetch: HttpFetch;
  }
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    if (!config.metrics.enabled) {
      app.decorate('metrics', null);
      app.decorate('outboundFetch', app.bitrix24Fetch);
      return;
    }
    const metrics = new AppMetrics();
    app.decorate('metrics', metrics);
    app.decorate('outboundFetch', countingFetch(metrics, app.bitrix24Fetch));

    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, not the URL: one series per route however many paths are asked for.
      metrics.observeRequest(
        request.method,
        request.routeOptions.url ?? 'unmatched',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });

    const { token } = config.metrics;
    app.get('/metrics', async (request, reply) => {
      if (token && !tokenMatches(bearerToken(request.headers.authorization), token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({
          error: 'unauthorized',
          message: 'Send the metrics token as Authorization: Bearer <token>.',
        });
      }
      const installations = await app.installations.summaries();
      metrics.catchUp({
        installations,
        // Every active portal has (or gets on its first call) a bucket in this process.
        buckets: installations
          .filter((i) => i.status === 'active')
          .map((i) => app.clients.limits.forPortal(i.memberId).bucket.getStats()),
        tokens: app.tokens.stats,
        keepAlive: app.keepAlive.stats,
      });
      return reply
        .type(metrics.registry.contentType)
        .header('cache-control', 'no-store')
        .send(await metrics.registry.metrics());
    });
  },
  { name: 'metrics', dependencies: ['outbound'] },
);
