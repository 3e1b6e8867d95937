// The domain services every route shares, built once per app: the installation store,
// the token manager (the one owner of refresh), REST clients, the installer.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { Bitrix24ClientFactory } from '../bitrix24/client-factory.js';
import { isBitrix24Error, UnexpectedResponseError } from '../bitrix24/errors.js';
import { OAuthServers } from '../bitrix24/oauth-servers.js';
import { PortalLimitsRegistry } from '../bitrix24/portal-limits.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { createCipher } from '../installations/cipher.js';
import { Installer, type OAuthExchange } from '../installations/installer.js';
import { TokenKeepAlive } from '../installations/keepalive.js';
import { resolveTokenKey } from '../installations/key-file.js';
import { PrismaInstallationStore } from '../installations/prisma-store.js';
import { RecentInstallations } from '../installations/recent-installations.js';
import { requestRefreshGrant } from '../installations/token-oauth-client.js';
import { TokenManager } from '../installations/tokens.js';
import type { Installation, InstallationStore } from '../installations/types.js';
import { PageContextSigner } from '../placements/page-context.js';
import { UserTokenVerifier } from '../placements/user-verifier.js';
import { ViewCache } from '../placements/view-cache.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    installations: InstallationStore;
    tokens: TokenManager;
    /** Refreshes idle portals' tokens before they die; started by the server (src/server.ts). */
    keepAlive: TokenKeepAlive;
    clients: Bitrix24ClientFactory;
    installer: Installer;
    pageContext: PageContextSigner;
    userVerifier: UserTokenVerifier;
    /** Installations as widget opens look them up: kept 2 s, forgotten on every write of this process. */
    recentInstallations: RecentInstallations;
    viewCache: ViewCache;
    /** True when the portal no longer accepts the app's stored tokens. */
    tokensRevoked(installation: Installation): Promise<boolean>;
  }
}

export interface ServicesOptions {
  config: Config;
  /** Test seam: the clock tokens expire by (the emulator's clock in tests). */
  now?: () => number;
  /** Every outbound request (REST and OAuth) goes through this (the metrics plugin counts them). */
  fetch?: typeof fetch;
}

export default fp<ServicesOptions>(
  async (app, { config, now = Date.now, fetch }) => {
    // buildApp always hands Fastify a pino instance (createLogger), so this is that instance.
    const log = app.log as unknown as Logger;
    // Never plaintext: without TOKEN_ENCRYPTION_KEY the key comes from a file beside the database.
    const tokenKey = resolveTokenKey(config);
    if (tokenKey.created) {
      app.log.warn(
        { keyFile: tokenKey.path },
        'TOKEN_ENCRYPTION_KEY is not set: created a key file for the tokens; keep it with the database',
      );
    }
    const cipher = createCipher(tokenKey.key, config.previousTokenEncryptionKeys);
    const store = new PrismaInstallationStore(app.db, cipher);
    const oauthConfig = {
      oauthUrl: config.bitrix24.oauthUrl,
      clientId: config.bitrix24.clientId,
      clientSecret: config.bitrix24.clientSecret,
    };
    const servers = new OAuthServers(config.bitrix24.oauthServers, config.bitrix24.oauthUrl);
    // Late-bound: the installer needs REST clients, which need the token manager.
    let installer: Installer | undefined;
    const tokens = new TokenManager({
      store,
      oauth: oauthConfig,
      owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      clock: { now },
      logger: log,
      fetch,
      servers,
      onEndpointChanged: async (installation, clientEndpoint) => {
        await installer?.repin(installation, clientEndpoint);
      },
    });
    const { burst, perSecond } = config.bitrix24.rateLimit;
    const clients = new Bitrix24ClientFactory({
      tokens,
      limits: new PortalLimitsRegistry({ capacity: burst, drainPerSecond: perSecond }),
      logger: log,
      allowHttp: config.bitrix24.allowHttp,
      fetch,
    });
    const oauth: OAuthExchange = {
      async refresh(refreshToken, oauthBase) {
        const grant = await requestRefreshGrant({ ...oauthConfig, oauthUrl: oauthBase }, refreshToken, {
          now: now(),
          fetch,
        });
        if (!grant.memberId || !grant.clientEndpoint) {
          throw new UnexpectedResponseError({
            code: 'ERROR_UNEXPECTED_ANSWER',
            status: 200,
            description: 'OAuth answer lacks member_id or client_endpoint',
            method: 'oauth/token',
          });
        }
        return {
          ...grant,
          memberId: grant.memberId,
          clientEndpoint: grant.clientEndpoint,
          // Where the grant came from: later refreshes of this installation go there too.
          serverEndpoint: OAuthServers.endpointOf(oauthBase),
          scope: null,
        };
      },
    };
    app.decorate('config', config);
    app.decorate('installations', store);
    app.decorate('tokens', tokens);
    const { keepAlive: keepAliveConfig } = config.bitrix24;
    const keepAlive = new TokenKeepAlive({
      store,
      tokens,
      lifetimeDays: keepAliveConfig.lifetimeDays,
      keepAliveDays: keepAliveConfig.days,
      intervalMs: keepAliveConfig.intervalMs,
      clock: { now },
      logger: log,
    });
    app.decorate('keepAlive', keepAlive);
    // Also refreshes started outside any request (CLI, checks, keep-alive): finish them before the database closes.
    app.addHook('preClose', async () => {
      await keepAlive.stop();
      await tokens.idle();
    });
    app.decorate('clients', clients);
    installer = new Installer({
      store,
      oauth,
      servers,
      admin: { isAdmin: (target, accessToken) => clients.forUser(target, accessToken).user.admin() },
      clientFor: (i) => clients.forInstallation(i).rest,
      config,
      log,
      now,
      refreshNow: (installationId) => tokens.refreshNow(installationId),
    });
    app.decorate('installer', installer);
    app.decorate('pageContext', new PageContextSigner(config.bitrix24.clientSecret, undefined, now));
    app.decorate('userVerifier', new UserTokenVerifier(10_000, now));
    app.decorate('viewCache', new ViewCache({ ttlMs: 10_000, staleMs: 10_000, maxEntries: 5_000, now }));
    const recentInstallations = new RecentInstallations(store, 2_000, 10_000, now);
    store.onInstallationWrite(() => recentInstallations.forget());
    app.decorate('recentInstallations', recentInstallations);
    app.decorate('tokensRevoked', async (installation: Installation) => {
      try {
        await clients.forInstallation(installation).app.info(undefined);
        return false;
      } catch (error) {
        if (!isBitrix24Error(error)) throw error;
        // Only the OAuth server refusing the stored refresh token proves the grant gone (the token
        // manager re-reads and refreshes first); a rejected access token proves nothing (#20.1).
        if (error.kind === 'reinstall' && error.method === 'oauth/token' && error.code === 'invalid_grant')
          return true;
        // Cannot tell now: let Bitrix24 send the event again later.
        throw new AppError(
          503,
          'portal_unreachable',
          'The portal could not be asked to confirm the event; try again later.',
        );
      }
    });
  },
  { name: 'services', dependencies: ['db'] },
);
