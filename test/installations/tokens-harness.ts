// Shared by the token manager suites of issue #18 (tokens-*.test.ts): the emulator's OAuth server
// and the SQLite test database, a frozen wall clock moved by hand, and token managers whose store
// and fetch record what they were asked (lease claims, refresh tokens spent).
import { afterEach, beforeEach, vi } from 'vitest';
import { TokenManager, type TokenManagerOptions } from '../../src/installations/tokens.js';
import type { InstallationStore } from '../../src/installations/types.js';
import { createTestEnv, type TestEnv } from '../bitrix24/setup.js';

export const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
export let env: TestEnv;

/** Each test: a fresh emulator and database, `Date` frozen at T0. */
export function useTokenEnv(): void {
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
    env = await createTestEnv();
  });
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await env?.close();
  });
}

export const id = () => env.installation.id;
export const stored = async () => (await env.store.getTokens(id()))!;
export const installation = async () => (await env.store.findById(id()))!;
export const oauth = () => env.emulator.stats.snapshot().oauth;
/** Moves the frozen wall clock. */
export const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

/** Stores the current pair again with another expiry (a version bump, as any write). */
export async function storeExpiry(expiresAt: number) {
  const s = await stored();
  await env.store.replaceTokens(id(), s.version, { ...s, expiresAt: new Date(expiresAt) });
}

export interface Managed {
  tokens: TokenManager;
  /** Refresh tokens this manager sent to the OAuth server, in order. */
  spent: string[];
  /** The origins those refresh requests went to. */
  servers: string[];
  /** Lease claims and renewals: owner, version, until (ms). */
  leases: { owner: string; version: number; until: number }[];
}

/** A token manager on the real store (some methods overridden) and the emulator's OAuth server. */
export function manager(
  owner: string,
  options: {
    store?: (base: InstallationStore) => Partial<Record<keyof InstallationStore, unknown>>;
    tokens?: Partial<TokenManagerOptions>;
    fetch?: typeof fetch;
  } = {},
): Managed {
  const spent: string[] = [];
  const servers: string[] = [];
  const leases: Managed['leases'] = [];
  const base = env.store;
  const overrides = options.store?.(base) ?? {};
  const store = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'acquireRefreshLease' && !(prop in overrides)) {
        return (installationId: number, version: number, leaseOwner: string, until: Date) => {
          leases.push({ owner: leaseOwner, version, until: until.getTime() });
          return target.acquireRefreshLease(installationId, version, leaseOwner, until);
        };
      }
      if (prop in overrides) return overrides[prop as keyof InstallationStore];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const inner = options.fetch ?? fetch;
  const recording: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    spent.push(url.searchParams.get('refresh_token') ?? '');
    servers.push(url.origin);
    return inner(input, init);
  };
  const app = env.emulator.apps[0]!;
  const tokens = new TokenManager({
    store,
    oauth: { oauthUrl: env.emulator.oauthUrl, clientId: app.clientId, clientSecret: app.clientSecret },
    owner,
    logger: env.logs.logger,
    fetch: recording,
    ...options.tokens,
  });
  return { tokens, spent, servers, leases };
}

/**
 * A fetch for the OAuth server that holds the request (before or after it reaches the server)
 * until `open()`. arrived: the request was made; served: the server has answered it (the refresh
 * token is spent).
 */
export function gate(when: 'before' | 'after') {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let answered!: () => void;
  const served = new Promise<void>((resolve) => {
    answered = resolve;
  });
  const held: typeof fetch = async (input, init) => {
    reached();
    if (when === 'before') await opened;
    const response = await fetch(input, init);
    answered();
    if (when === 'after') await opened;
    return response;
  };
  return { fetch: held, open, arrived, served };
}

/** The delays given to setTimeout from now on that are in `ms` (the manager's own waits). */
export function timeoutsOf(ms: number[]) {
  const spy = vi.spyOn(globalThis, 'setTimeout');
  const from = spy.mock.calls.length;
  return () =>
    spy.mock.calls
      .slice(from)
      .map((c) => c[1])
      .filter((d): d is number => ms.includes(d as number));
}

export const logged = (msg: string) =>
  env.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

/** The periods given to setInterval from now on (the heartbeat's). */
export function intervalsOf() {
  const spy = vi.spyOn(globalThis, 'setInterval');
  const from = spy.mock.calls.length;
  return () => spy.mock.calls.slice(from).map((c) => c[1]);
}

/** What the PostgreSQL driver throws when the server drops the connection (57P01). */
export const droppedConnection = () =>
  Object.assign(new Error('terminating connection due to administrator command'), {
    name: 'DriverAdapterError',
    code: '57P01',
  });

/** Polls (real time, 5 ms) until `ready()`; the timers the manager runs are real. */
export async function until(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

/** Real time passing, for "nothing more happens" checks against real interval timers. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
