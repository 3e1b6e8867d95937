import fp from 'fastify-plugin';
import type { Db, Provider } from '../db/client.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    dbProvider: Provider;
  }
}

export interface DbPluginOptions {
  db: Db;
  provider: Provider;
  /** Disconnect on close: true when buildApp created the client itself. */
  owned: boolean;
}

export default fp<DbPluginOptions>(
  async (app, { db, provider, owned }) => {
    app.decorate('db', db);
    app.decorate('dbProvider', provider);
    if (owned) app.addHook('onClose', async () => db.$disconnect());
  },
  { name: 'db' },
);
