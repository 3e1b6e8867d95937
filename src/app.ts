import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createDb, type Db, type Provider } from './db/client.js';
import { parseForm } from './form.js';
import { createLogger } from './logger.js';
import type { PlacementModule } from './placements/module.js';
import dbPlugin from './plugins/db.js';
import deadline from './plugins/deadline.js';
import errorHandler from './plugins/error-handler.js';
import gracefulClose from './plugins/graceful-close.js';
import metrics from './plugins/metrics.js';
import outbound from './plugins/outbound.js';
import rateLimits from './plugins/rate-limits.js';
import securityHeaders from './plugins/security-headers.js';
import services from './plugins/services.js';
import staticFiles from './plugins/static.js';
import views from './plugins/views.js';
import { requestLogger } from './request-logger.js';
import admin from './routes/admin.js';
import appPage from './routes/app-page.js';
import events from './routes/events.js';
import health from './routes/health.js';
import install from './routes/install.js';
import placements from './routes/placements.js';

export interface AppDependencies {
  /** An existing Prisma client (tests share one); otherwise buildApp opens config.databaseUrl. */
  db?: { db: Db; provider: Provider };
  /** Overrides the logger (tests capture log lines with a stream; see createLogger). */
  logger?: Logger;
  /** The clock tokens expire by (tests pass the emulator's). */
  now?: () => number;
  /** The widgets the app serves and binds (default: placements/registry.ts; tests add one). */
  placements?: readonly PlacementModule[];
  /** Where the page templates are (default: views/; tests add a template to a copy). */
  viewsRoot?: string;
}

export async function buildApp(config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config.logLevel),
    childLoggerFactory: (parent, bindings, options) =>
      requestLogger(parent as unknown as Logger, bindings, options),
    bodyLimit: config.bodyLimitBytes,
    // A hop count trusts that many proxies in front of us; Fastify's types take it as a function.
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs * 2,
    routerOptions: { ignoreTrailingSlash: true },
    // On close, idle keep-alive connections are dropped; requests in flight finish first.
    forceCloseConnections: 'idle',
    // Requests arriving while closing get our own 503 `shutting_down` (plugins/graceful-close.ts).
    return503OnClosing: false,
  }) as unknown as FastifyInstance;

  const database = deps.db ?? createDb(config.databaseUrl);
  await app.register(dbPlugin, { ...database, owned: !deps.db });
  await app.register(formbody, { parser: parseForm, bodyLimit: config.bodyLimitBytes });
  await app.register(gracefulClose);
  await app.register(deadline, { deadlineMs: config.requestDeadlineMs }); // before the routes it applies to
  await app.register(securityHeaders);
  await app.register(rateLimits, config.rateLimit);
  await app.register(views, deps.viewsRoot ? { root: deps.viewsRoot } : {});
  await app.register(errorHandler);
  await app.register(staticFiles);
  await app.register(outbound);
  await app.register(metrics, { config }); // before services: they send Bitrix24 requests through its fetch
  await app.register(services, {
    config,
    fetch: app.outboundFetch,
    ...(deps.now && { now: deps.now }),
    ...(deps.placements && { placements: deps.placements }),
  });
  await app.register(health);
  await app.register(install);
  await app.register(events);
  await app.register(placements);
  await app.register(appPage);
  await app.register(admin);
  return app;
}
