// The app's domain services, wired once: the installation store, the token manager (the one
// owner of refresh), REST clients, the installer and what widget pages share. The HTTP app
// decorates itself with them (plugins/services.ts); the CLI uses them without any HTTP.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Bitrix24ClientFactory } from './bitrix24/client-factory.js';
import { OAuthServers } from './bitrix24/oauth-servers.js';
import { PortalLimitsRegistry } from './bitrix24/portal-limits.js';
import { PgRateBudget } from './bitrix24/shared-budget.js';
import type { Config } from './config.js';
import type { Db, Provider } from './db/client.js';
import { AppError } from './errors.js';
import { createCipher } from './installations/cipher.js';
import { checkGrant } from './installations/grant-check.js';
import { Installer } from './installations/installer.js';
import { TokenKeepAlive } from './installations/keepalive.js';
import { resolveTokenKey } from './installations/key-file.js';
import { oauthExchange } from './installations/oauth-exchange.js';
import { PrismaInstallationStore } from './installations/prisma-store.js';
import { RecentInstallations } from './installations/recent-installations.js';
import { TokenManager } from './installations/tokens.js';
import type { Installation, InstallationStore } from './installations/types.js';
import type { PlacementModule } from './placements/module.js';
import { PageContextSigner } from './placements/page-context.js';
import { appManifest, PLACEMENT_MODULES } from './placements/registry.js';
import { UserTokenVerifier } from './placements/user-verifier.js';
import { ViewCache } from './placements/view-cache.js';

export interface ServicesDeps {
  db: Db;
  provider: Provider;
  log: Logger;
  /** The clock tokens expire by (tests pass the emulator's). */
  now?: () => number;
  /** Every outbound request (REST and OAuth) goes through this (the metrics plugin counts them). */
  fetch?: import('./bitrix24/http.js').HttpFetch;
  /** The widgets the app serves and binds (default: PLACEMENT_MODULES). */
  placements?: readonly PlacementModule[];
}

export interface Services {
  config: Config;
  /** The clock of tokens and signed pages (tests pass the emulator's). */
  now: () => number;
  installations: InstallationStore;
  tokens: TokenManager;
  /** Refreshes idle portals' tokens before they die; started by the server (src/server.ts). */
  keepAlive: TokenKeepAlive;
  clients: Bitrix24ClientFactory;
  installer: Installer;
  placementModules: readonly PlacementModule[];
  pageContext: PageContextSigner;
  userVerifier: UserTokenVerifier;
  /** Installations as widget opens look them up: kept 2 s, forgotten on every write of this process. */
  recentInstallations: RecentInstallations;
  viewCache: ViewCache;
  /** True when the portal no longer accepts the app's stored tokens. */
  tokensRevoked(installation: Installation): Promise<boolean>;
  /** Stops the keep-alive and waits for refreshes under way: call before the database closes. */
  idle(): Promise<void>;
}

export function createServices(config: Config, deps: ServicesDeps): Services {
  const { db, log, fetch } = deps;
  const now = deps.now ?? Date.now;
  const placementModules = deps.placements ?? PLACEMENT_MODULES;
  // Never plaintext: without TOKEN_ENCRYPTION_KEY the key comes from a file beside the database.
  const tokenKey = resolveTokenKey(config);
  if (tokenKey.created) {
    log.warn(
      { keyFile: tokenKey.path },
      'TOKEN_ENCRYPTION_KEY is not set: created a key file for the tokens; keep it with the database',
    );
  }
  const cipher = createCipher(tokenKey.key, config.previousTokenEncryptionKeys);
  const store = new PrismaInstallationStore(db, cipher);
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
  const { burst, perSecond, shared } = config.bitrix24.rateLimit;
  const clients = new Bitrix24ClientFactory({
    tokens,
    limits: new PortalLimitsRegistry({
      capacity: burst,
      drainPerSecond: perSecond,
      // One bucket per portal for every replica on the database (README "Scaling").
      shared: shared && deps.provider === 'postgresql' ? new PgRateBudget(db) : undefined,
      logger: log,
    }),
    logger: log,
    allowHttp: config.bitrix24.allowHttp,
    fetch,
  });
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
  installer = new Installer({
    store,
    oauth: oauthExchange(oauthConfig, { fetch, now }),
    servers,
    admin: { isAdmin: (target, accessToken) => clients.forUser(target, accessToken).user.admin() },
    clientFor: (i) => clients.forInstallation(i).rest,
    clientWith: (target, accessToken) => clients.forUser(target, accessToken).rest,
    config,
    manifest: appManifest(placementModules, config.bitrix24.blockCodes),
    log,
    now,
    refreshNow: (installationId) => tokens.refreshNow(installationId),
    tokensStored: (installationId, grant) => tokens.adopt(installationId, grant),
  });
  const recentInstallations = new RecentInstallations(store, 2_000, 10_000, now);
  store.onInstallationWrite(() => recentInstallations.forget());
  return {
    config,
    now,
    installations: store,
    tokens,
    keepAlive,
    clients,
    installer,
    placementModules,
    pageContext: new PageContextSigner(config.bitrix24.clientSecret, undefined, now),
    userVerifier: new UserTokenVerifier(10_000, now),
    viewCache: new ViewCache({ ttlMs: 10_000, staleMs: 10_000, maxEntries: 5_000, now }),
    recentInstallations,
    async tokensRevoked(installation) {
      const { verdict } = await checkGrant(clients, installation);
      if (verdict === 'working') return false;
      if (verdict === 'revoked') return true;
      // Cannot tell now: let Bitrix24 send the event again later.
      throw new AppError(
        503,
        'portal_unreachable',
        'The portal could not be asked to confirm the event; try again later.',
      );
    },
    async idle() {
      await keepAlive.stop();
      await tokens.idle();
    },
  };
}
