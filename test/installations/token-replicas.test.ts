// One truth about tokens across replicas (issue #20.1) and a short, recoverable refresh window
// (issue #19.2): separate TokenManagers on separate database clients of one database (SQLite
// here, PostgreSQL with TEST_DATABASE=postgres), against the emulator's single-use refresh tokens.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkInstallation } from '../../src/admin/check.js';
import type { OpsServices } from '../../src/admin/ops.js';
import type { Db } from '../../src/db/client.js';
import type { TokenManagerOptions } from '../../src/installations/tokens.js';
import type { InstallationStore } from '../../src/installations/types.js';
import {
  type AppProcess,
  appProcess,
  createTestEnv,
  expireStoredTokens,
  type TestEnv,
} from '../bitrix24/setup.js';
import { droppedConnection, gate } from './tokens-harness.js';

let env: TestEnv;

beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(() => env?.close());

type Replica = AppProcess;

/** Another app process: its own database client, store, token manager and clients. */
function replica(
  owner: string,
  options: {
    db?: Db;
    store?: (s: InstallationStore) => InstallationStore;
    tokens?: Partial<TokenManagerOptions>;
  } = {},
): Replica {
  return appProcess(env, options.db ?? env.testDb.connect(), {
    owner,
    ...(options.store && { store: options.store }),
    ...(options.tokens && { tokens: options.tokens }),
    // The client's default wait after a 503 (appProcess shortens it for its own suites).
    retry: { rateLimitBaseDelayMs: 500 },
  });
}

/** The admin check (src/admin/check.ts) as this replica runs it. */
async function check(r: Replica) {
  const installation = (await r.store.findById(env.installation.id))!;
  const ops = { store: r.store, clients: r.factory, tokens: r.tokens } as unknown as OpsServices;
  return checkInstallation(ops, installation);
}

/** Overrides some store methods, leaving the rest to the real store. */
function withStore(overrides: Partial<Record<keyof InstallationStore, unknown>>) {
  return (store: InstallationStore): InstallationStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop in overrides) return overrides[prop as keyof InstallationStore];
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

const oauthStats = () => env.emulator.stats.snapshot().oauth;
const status = async () => (await env.store.findById(env.installation.id))!.status;

describe('replicas agree on the current pair (#20.1)', () => {
  it('two replicas: a token two refreshes old is replaced by the stored pair, then refreshed; never needs_reinstall', async () => {
    const a = replica('replica-a');
    const c = replica('replica-c');
    expect((await check(a)).outcome).toBe('ok');
    expect((await check(c)).outcome).toBe('ok'); // C caches the first pair
    await expireStoredTokens(env);
    expect((await check(a)).outcome).toBe('ok'); // A refreshes: pair 2 stored
    expect(oauthStats().refreshRequests).toBe(1);
    env.emulator.expireTokens(); // the portal now rejects pair 2 too, though the store says it is valid

    const result = await check(c);
    expect(result).toMatchObject({ outcome: 'ok', detail: null });
    expect(await status()).toBe('active');
    expect(oauthStats().refreshRequests).toBe(2); // C: stored pair 2 first, then one refresh
    expect(oauthStats().refreshFailures).toBe(0);
    // A, whose cached pair 2 is now rejected, picks up C's pair 3 without another refresh.
    await expect(a.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    expect(oauthStats().refreshRequests).toBe(2);
  });

  it('three replicas: each holds an older pair; every one ends up working with no lost installation', async () => {
    const [a, b, c] = [replica('replica-a'), replica('replica-b'), replica('replica-c')];
    for (const r of [a, b, c]) expect((await check(r)).outcome).toBe('ok');
    await expireStoredTokens(env);
    expect((await check(a)).outcome).toBe('ok'); // pair 2
    env.emulator.expireTokens();
    expect((await check(b)).outcome).toBe('ok'); // pair 1 → stored 2 rejected → pair 3
    env.emulator.expireTokens();
    expect((await check(c)).outcome).toBe('ok'); // pair 1 → stored 3 rejected → pair 4
    expect(await status()).toBe('active');
    expect(oauthStats().refreshRequests).toBe(3);
    expect(oauthStats().refreshFailures).toBe(0);
    const calls = [a, b, c].map((r) => r.factory.forInstallation(env.installation).user.current());
    expect((await Promise.all(calls)).every((u) => u.ID === 1)).toBe(true);
  });

  it('a refresh token spent by another replica is not a lost installation: the newer stored pair is used', async () => {
    // B's refresh request is held back; meanwhile its lease lapses (no heartbeat reaches the
    // database) and A refreshes. B's request then spends the old token: invalid_grant, but the
    // stored pair is newer, so nothing is marked.
    const held = gate('before');
    const b = replica('replica-b', {
      store: withStore({ acquireRefreshLease: leaseOnlyOnce() }),
      tokens: { fetch: held.fetch, leaseMs: 200, heartbeatMs: 50 },
    });
    const a = replica('replica-a', { tokens: { leaseMs: 200 } });
    await expireStoredTokens(env);
    const bCall = b.factory.forInstallation(env.installation).app.info();
    await held.arrived;
    await expect(a.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    held.open();
    await expect(bCall).resolves.toMatchObject({ ID: 1 });
    expect(oauthStats().refreshRequests).toBe(2);
    expect(oauthStats().refreshFailures).toBe(1); // B's outdated token
    expect(await status()).toBe('active');
  });
});

/** Waits until `owner` holds the installation's refresh lease. */
async function leaseHeldBy(owner: string) {
  for (let i = 0; i < 250; i++) {
    if ((await env.store.getTokens(env.installation.id))?.leaseOwner === owner) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${owner} never took the lease`);
}

/** acquireRefreshLease that grants the first claim and refuses every renewal (a process cut off from the database). */
function leaseOnlyOnce() {
  let granted = false;
  return async (...args: Parameters<InstallationStore['acquireRefreshLease']>) => {
    if (granted) throw droppedConnection();
    granted = true;
    return env.store.acquireRefreshLease(...args);
  };
}

describe('a refreshed pair the database refuses is kept and stored later (#20.1)', () => {
  it('retries the write with backoff; the call succeeds meanwhile and another replica waits for the pair', async () => {
    let failures = 3;
    const a = replica('replica-a', {
      store: withStore({
        replaceTokens: async (...args: Parameters<InstallationStore['replaceTokens']>) => {
          if (failures > 0) {
            failures -= 1;
            throw droppedConnection();
          }
          return env.store.replaceTokens(...args);
        },
      }),
    });
    const b = replica('replica-b');
    const before = (await env.store.getTokens(env.installation.id))!;
    await expireStoredTokens(env);

    await expect(a.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    expect(failures).toBeLessThan(3); // answered from memory, not after the write went through
    // B must not spend the stored (already spent) refresh token: A's lease is still held.
    await expect(b.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    await a.tokens.idle();
    expect(failures).toBe(0);
    const after = (await env.store.getTokens(env.installation.id))!;
    expect(after.version).toBe(before.version + 2); // expireStoredTokens wrote once, the retry once
    expect(after.leaseOwner).toBeNull();
    expect(a.tokens.stats.writeRetries).toBe(3);
    expect(oauthStats().refreshRequests).toBe(1);
    expect(oauthStats().refreshFailures).toBe(0);
    expect(await status()).toBe('active');
    // The stored pair is the one the OAuth server issued: a fresh process works with it.
    const fresh = replica('replica-fresh');
    await expect(fresh.factory.forInstallation(env.installation).user.current()).resolves.toMatchObject({
      ID: 1,
    });
    expect(oauthStats().refreshRequests).toBe(1);
    const log = env.logs.text();
    expect(log).toContain('kept in memory and written again');
    expect(log).toContain('"code":"57P01"');
  });

  it.runIf(isPostgres())(
    'PostgreSQL: every backend terminated (pg_terminate_backend) between the refresh and the write: pair not lost',
    async () => {
      const killer = env.testDb.connect();
      const aDb = env.testDb.connect();
      const terminateOthers = async () => {
        await killer.$queryRawUnsafe(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
      };
      const killing: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        await terminateOthers();
        return response;
      };
      const a = replica('replica-a', { db: aDb, tokens: { fetch: killing } });
      await a.store.getTokens(env.installation.id); // A's pool holds a connection to kill
      await expireStoredTokens(env);
      await expect(a.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
      await a.tokens.idle();
      // Usually the write meets the dead connection and is retried (writeRetries 1); the pool may
      // also notice first and reconnect. Either way the pair the OAuth server issued is stored.
      expect(oauthStats().refreshRequests).toBe(1);
      const c = replica('replica-c');
      await expect(c.factory.forInstallation(env.installation).user.current()).resolves.toMatchObject({
        ID: 1,
      });
      expect(oauthStats().refreshRequests).toBe(1);
      expect((await c.store.findById(env.installation.id))!.status).toBe('active');
    },
  );
});

function isPostgres(): boolean {
  return process.env.TEST_DATABASE === 'postgres';
}

describe('the refresh window (#19.2)', () => {
  it('a slow OAuth answer is awaited (no timeout under 60 s), the lease is kept by heartbeats, and an impatient caller elsewhere gives up without spending the token', async () => {
    let delayed = 0;
    const slow: typeof fetch = async (input, init) => {
      await new Promise((r) => setTimeout(r, 3_000));
      delayed += 1;
      return fetch(input, init);
    };
    // Asked for a 1 s OAuth timeout and a 1 s lease: the timeout is raised to 60 s, the lease renewed.
    const a = replica('replica-a', { tokens: { fetch: slow, oauthTimeoutMs: 1_000, leaseMs: 1_000 } });
    const b = replica('replica-b', { tokens: { leaseMs: 1_000, waitTimeoutMs: 2_000 } });
    await expireStoredTokens(env);
    const aCall = a.factory.forInstallation(env.installation).app.info();
    await leaseHeldBy('replica-a');
    await expect(b.factory.forInstallation(env.installation).app.info()).rejects.toMatchObject({
      code: 'TOKEN_REFRESH_WAIT_TIMEOUT',
    });
    await expect(aCall).resolves.toMatchObject({ ID: 1 });
    expect(delayed).toBe(1);
    expect(oauthStats().refreshRequests).toBe(1);
    expect(oauthStats().refreshFailures).toBe(0);
    await expect(b.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    expect(await status()).toBe('active');
  });

  it('a dead process’s lease (default settings) is taken over within 5 s', async () => {
    // "Dead": its OAuth request never leaves, and no heartbeat reaches the database.
    const dead = replica('dead', {
      store: withStore({ acquireRefreshLease: leaseOnlyOnce() }),
      tokens: { fetch: () => new Promise<Response>(() => {}) },
    });
    await expireStoredTokens(env);
    void dead.tokens.getAccessToken(env.installation.id).catch(() => {});
    await leaseHeldBy('dead');
    const lease = await env.store.getTokens(env.installation.id);
    const leasedFor = lease!.leaseUntil!.getTime() - Date.now();
    expect(leasedFor).toBeLessThanOrEqual(5_000); // the default lease

    const survivor = replica('survivor');
    const started = Date.now();
    await expect(survivor.tokens.getAccessToken(env.installation.id)).resolves.toBeTypeOf('string');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(leasedFor - 100);
    // Real time: the lease's end is compared across database clients (no shared clock to move).
    expect(waited).toBeLessThan(leasedFor + 1_500); // polling (≤ 250 ms) and the refresh itself
    await expect(survivor.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({
      ID: 1,
    });
    expect(oauthStats().refreshRequests).toBe(1);
  }, 15_000);

  it('a pair stored after another replica marked the portal lost (its lease had lapsed) revives it', async () => {
    // A's refresh reaches the OAuth server (the token is spent) but its answer is held; A's
    // heartbeats fail. B takes the lapsed lease, is refused (invalid_grant) and marks the
    // portal. Then A's answer arrives and is stored: the portal works, so the mark is undone.
    const held = gate('after');
    const a = replica('replica-a', {
      store: withStore({ acquireRefreshLease: leaseOnlyOnce() }),
      tokens: { fetch: held.fetch, leaseMs: 200, heartbeatMs: 50 },
    });
    const b = replica('replica-b', { tokens: { leaseMs: 200 } });
    await expireStoredTokens(env);
    const aCall = a.factory.forInstallation(env.installation).app.info();
    await held.served; // the OAuth server has spent the refresh token
    await expect(b.factory.forInstallation(env.installation).app.info()).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    expect(await status()).toBe('needs_reinstall');
    held.open();
    await expect(aCall).resolves.toMatchObject({ ID: 1 });
    expect(await status()).toBe('active');
    await expect(b.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
  });
});
