import type { FastifyPluginAsync } from 'fastify';

/** Liveness and readiness in one: the database must answer. */
const health: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async (request, reply) => {
    try {
      await app.db.$queryRawUnsafe('SELECT 1');
      return { status: 'ok', database: app.dbProvider };
    } catch (error) {
      request.log.warn({ err: error }, 'health check: database unreachable');
      return reply
        .code(503)
        .send({ error: 'database_unavailable', message: 'The database does not answer.' });
    }
  });
};

export default health;
