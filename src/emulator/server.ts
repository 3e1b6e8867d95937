import Fastify, { type FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context.js';
import { registerOAuthAuthorize, registerOAuthToken } from './oauth.js';
import { registerEditor } from './pages/editor.js';
import { parsePhpQuery } from './params.js';
import { registerRest } from './rest.js';
import type { PortalState } from './types.js';

/** Fastify with PHP-style query/form parsing, so `fields[PLACEMENT]=X` arrives nested as in $_REQUEST. */
function createApp(): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 10 * 1024 * 1024,
    routerOptions: { querystringParser: parsePhpQuery },
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (!text) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('Invalid JSON body'), { statusCode: 400 }), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, parsePhpQuery(String(body))),
  );
  // Anything else (text/plain, multipart) is accepted and ignored rather than answered with 415.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, _body, done) => done(null, {}));
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    reply.header('Access-Control-Allow-Origin', '*');
    return reply.code(status).send({
      error: status < 500 ? 'INVALID_REQUEST' : 'INTERNAL_SERVER_ERROR',
      error_description: err.message,
    });
  });
  return app;
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('Server has no TCP address');
  return addr.port;
}

/** The oauth.bitrix.info stand-in: /oauth/token/. */
export async function startOAuthServer(ctx: EmulatorContext, port: number): Promise<FastifyInstance> {
  const app = createApp();
  registerOAuthToken(app, ctx);
  ctx.oauthPort = await listen(app, ctx.host, port);
  return app;
}

/** One portal on its own port, so its DOMAIN (host:port) and the editor page's origin are distinct. */
export async function startPortalServer(
  ctx: EmulatorContext,
  portal: PortalState,
  port: number,
): Promise<FastifyInstance> {
  const app = createApp();
  registerOAuthToken(app, ctx);
  registerOAuthAuthorize(app, ctx, portal);
  registerRest(app, ctx, portal);
  registerEditor(app, ctx, portal);
  portal.port = await listen(app, ctx.host, port);
  return app;
}
