// An Installer built from a running stack's own parts (store, token manager, OAuth allowlist,
// manifest), with one part changed for a suite: a fetch that answers one endpoint the way the
// emulator never does (an OAuth server at its rate limit, a portal refusing user.admin with a
// given code), another PUBLIC_URL (every binding refused), or https only. Everything else goes
// to the emulator over real HTTP.
import { createHash } from 'node:crypto';
import { Bitrix24ClientFactory } from '../../src/bitrix24/client-factory.js';
import { OAuthServers } from '../../src/bitrix24/oauth-servers.js';
import { Installer, type InstallerDeps, type InstallRequest } from '../../src/installations/installer.js';
import { oauthExchange } from '../../src/installations/oauth-exchange.js';
import { createLogger } from '../../src/logger.js';
import { appManifest } from '../../src/placements/registry.js';
import { LogCapture } from '../helpers/app.js';
import type { Stack } from '../helpers/stack.js';

/** A fetch that answers requests whose path ends with `path` with this JSON, and passes the rest to `next`. */
export function answering(path: string, status: number, body: unknown, next: typeof fetch = fetch) {
  const seen: string[] = [];
  const fetchAnswering: typeof fetch = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (url.pathname.endsWith(path)) {
      seen.push(url.pathname);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    }
    return next(input, init);
  };
  return { fetch: fetchAnswering, seen };
}

export interface HarnessOptions {
  /** Every request to the OAuth server (token and app.info). */
  oauthFetch?: typeof fetch;
  /** Every REST request (user.admin, binding batches). */
  restFetch?: typeof fetch;
  publicUrl?: string;
  allowHttp?: boolean;
  /** Told after the store recorded an installation's bindings (a background re-sync has ended). */
  onBindingsSet?: () => void;
  /** The store the installer uses instead of the stack's own (a wrapper of it). */
  store?: InstallerDeps['store'];
}

/** The stack's own store, telling `onBindingsSet` after each setBindings it finished. */
function observedStore(stack: Stack, onBindingsSet: () => void) {
  const store = stack.app.installations;
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === 'setBindings') {
        return async (...args: Parameters<typeof store.setBindings>) => {
          await store.setBindings(...args);
          onBindingsSet();
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export function installerOf(stack: Stack, options: HarnessOptions = {}) {
  const logs = new LogCapture();
  const { config, app } = stack;
  const clients = new Bitrix24ClientFactory({
    tokens: app.tokens,
    allowHttp: true,
    retry: { baseDelayMs: 1, maxDelayMs: 1, rateLimitBaseDelayMs: 1, rateLimitMaxDelayMs: 1 },
    ...(options.restFetch && { fetch: options.restFetch }),
  });
  const installer = new Installer({
    store:
      options.store ??
      (options.onBindingsSet ? observedStore(stack, options.onBindingsSet) : app.installations),
    oauth: oauthExchange(
      { clientId: config.bitrix24.clientId, clientSecret: config.bitrix24.clientSecret },
      { now: app.now, ...(options.oauthFetch && { fetch: options.oauthFetch }) },
    ),
    servers: new OAuthServers(config.bitrix24.oauthServers, config.bitrix24.oauthUrl),
    admin: { isAdmin: (target, accessToken) => clients.forUser(target, accessToken).user.admin() },
    clientFor: (installation) => clients.forInstallation(installation).rest,
    clientWith: (target, accessToken) => clients.forUser(target, accessToken).rest,
    config: {
      publicUrl: options.publicUrl ?? config.publicUrl,
      bitrix24: { allowHttp: options.allowHttp ?? true, clientId: config.bitrix24.clientId },
    },
    manifest: appManifest(app.placementModules, config.bitrix24.blockCodes),
    log: createLogger('debug', logs.stream),
    now: app.now,
    refreshNow: (installationId) => app.tokens.refreshNow(installationId),
  });
  return { installer, logs };
}

/** The fields `keys` of every log line with message `msg`, in order. */
export function logged(lines: readonly string[], msg: string, keys: readonly string[]) {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg)
    .map((line) => Object.fromEntries(keys.map((k) => [k, line[k]])));
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An install POST of `member`'s portal on the stack's emulator, as the install route reads it. */
export type InstallTokens = { access_token?: string; refresh_token: string };

export function installRequest(
  stack: Stack,
  member: string,
  tokens: InstallTokens,
  over: Partial<InstallRequest> = {},
): InstallRequest {
  return {
    memberId: member,
    domain: stack.emulator.portal(member).domain,
    protocol: 'http',
    lang: 'en',
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token ?? null,
    expiresInSeconds: 3600,
    scope: null,
    applicationToken: 'app0token',
    serverEndpoint: null,
    ...over,
  };
}
