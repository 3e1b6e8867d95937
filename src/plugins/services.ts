// Decorates the app with its domain services (src/services.ts), built once per app.
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { HttpFetch } from '../bitrix24/http.js';
import type { Config } from '../config.js';
import type { PlacementModule } from '../placements/module.js';
import { createServices, type Services } from '../services.js';

declare module 'fastify' {
  interface FastifyInstance extends Omit<Services, 'idle'> {}
}

export interface ServicesOptions {
  config: Config;
  /** Test seam: the clock tokens expire by (the emulator's clock in tests). */
  now?: () => number;
  /** Every outbound request (REST and OAuth) goes through this (the metrics plugin counts them). */
  fetch?: HttpFetch;
  /** The widgets the app serves and binds (default: placements/registry.ts). */
  placements?: readonly PlacementModule[];
}

export default fp<ServicesOptions>(
  async (app, { config, now, fetch, placements }) => {
    // buildApp always hands Fastify a pino instance (createLogger), so this is that instance.
    const log = app.log as unknown as Logger;
    const { idle, ...services } = createServices(config, {
      db: app.db,
      provider: app.dbProvider,
      log,
      ...(now && { now }),
      ...(fetch && { fetch }),
      ...(placements && { placements }),
    });
    app.decorate('config', services.config);
    app.decorate('now', services.now);
    app.decorate('installations', services.installations);
    app.decorate('tokens', services.tokens);
    app.decorate('keepAlive', services.keepAlive);
    app.decorate('clients', services.clients);
    app.decorate('installer', services.installer);
    app.decorate('placementModules', services.placementModules);
    app.decorate('pageContext', services.pageContext);
    app.decorate('userVerifier', services.userVerifier);
    app.decorate('recentInstallations', services.recentInstallations);
    app.decorate('viewCache', services.viewCache);
    app.decorate('tokensRevoked', services.tokensRevoked);
    // Also refreshes started outside any request (CLI, checks, keep-alive): finish them before the database closes.
    app.addHook('preClose', idle);
  },
  { name: 'services', dependencies: ['db'] },
);
