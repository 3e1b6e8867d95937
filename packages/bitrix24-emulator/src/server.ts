import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { EmulatorContext, PortalOf } from './context.js';
import { registerOAuthAuthorize, registerOAuthToken } from './oauth.js';
import { registerOAuthAppInfo } from './oauth-app-info.js';
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

/** The oauth.bitrix.info stand-in: /oauth/token/ and its own /rest/app.info. */
export async function startOAuthServer(ctx: EmulatorContext, port: number): Promise<FastifyInstance> {
  const app = createApp();
  registerOAuthToken(app, ctx);
  registerOAuthAppInfo(app, ctx);
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
  registerPortalRoutes(app, ctx, () => portal);
  portal.port = await listen(app, ctx.host, port);
  return app;
}

function registerPortalRoutes(app: FastifyInstance, ctx: EmulatorContext, portalOf: PortalOf): void {
  registerOAuthToken(app, ctx);
  registerOAuthAuthorize(app, ctx, portalOf);
  registerRest(app, ctx, portalOf);
  registerEditor(app, ctx, portalOf);
}

function listenPlain(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const addr = server.address();
      if (!addr || typeof addr === 'string') reject(new Error('Server has no TCP address'));
      else resolve(addr.port);
    });
  });
}

/** Listens on the first free port from `first` upward. */
async function listenFrom(server: Server, host: string, first: number): Promise<number> {
  for (let port = first; port < 65536; port++) {
    try {
      return await listenPlain(server, host, port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error(`No free port from ${first}`);
}

/**
 * Many portals, one Fastify instance: a Fastify app with its routes costs megabytes and
 * milliseconds, thousands of them too much. Each portal still listens on its own port (a plain
 * http.Server, so DOMAIN stays distinct per portal) and hands its requests to the shared app,
 * which finds the portal by the local port the connection arrived on, never by the Host header.
 */
export async function startSharedPortalServers(
  ctx: EmulatorContext,
  portals: { portal: PortalState; port: number }[],
  /** Where portals without a fixed port start looking for one (0 = a random port each). */
  firstPort = 0,
): Promise<{ close(): Promise<void> }> {
  const app = createApp();
  const byPort = new Map<number, PortalState>();
  registerPortalRoutes(app, ctx, (req) => {
    const portal = byPort.get(req.socket.localPort ?? 0);
    if (!portal) throw new Error(`No portal listens on port ${req.socket.localPort}`);
    return portal;
  });
  await app.ready();
  const servers: Server[] = [];
  const close = async () => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await app.close();
  };
  let nextFree = firstPort;
  try {
    for (const { portal, port } of portals) {
      // Fastify's own server is never listened on; its 'request' handler runs the full lifecycle.
      const server = createServer((req, res) => app.server.emit('request', req, res));
      servers.push(server);
      if (port || !firstPort) portal.port = await listenPlain(server, ctx.host, port);
      else {
        portal.port = await listenFrom(server, ctx.host, nextFree);
        nextFree = portal.port + 1;
      }
      byPort.set(portal.port, portal);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { close };
}
