// The portal misbehaves (latency, 500s, 503s, dropped connections, OAuth failures, a revoked
// app) and the database fails (SQLite locked, PostgreSQL refusing connections). The app
// answers with clear errors, retries what is safe, and afterwards every installation's
// tokens are intact and usable.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';
import { TEST_PROVIDER } from '../helpers/db.js';
import { adminQuery } from '../helpers/postgres.js';
import { type Stack, startStack } from '../helpers/stack.js';

const PORTALS = ['f1f1f1f1', 'f2f2f2f2', 'f3f3f3f3'];
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    emulator: {
      portals: PORTALS.map((memberId) => ({ memberId })),
      limits: { bucketSize: 10_000, drainPerSecond: 1_000 },
    },
    env: { B24_RATE_LIMIT_BURST: '10000', B24_RATE_LIMIT_PER_SECOND: '1000', LOG_LEVEL: 'warn' },
  });
  for (const m of PORTALS) {
    expect((await stack.emulator.installApp(m)).status).toBe(200);
    stack.emulator.finishInstall(m);
  }
});
afterAll(async () => stack?.close());

/** Every installation: its stored tokens work against the portal. */
async function expectAllTokensUsable(memberIds = PORTALS) {
  for (const m of memberIds) {
    const installation = (await stack.app.installations.find(m))!;
    expect(installation.status, m).toBe('active');
    const info = await stack.app.clients.forInstallation(installation).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
  }
}

async function openSettings(m: string) {
  stack.app.viewCache.invalidate(m); // every open reads the portal
  return stack.emulator.openPlacement(m, { placement: 'LANDING_SETTINGS' });
}

describe('portal faults', () => {
  it('latency, 500s, 503s and dropped connections: answers are pages or clear 503s, never 500', async () => {
    const rules = [
      { latencyMs: 150 },
      { errorRate: 0.4, errorStatus: 503 as const },
      { errorRate: 0.4, errorStatus: 500 as const },
      { dropRate: 0.3 },
    ];
    const seen = new Set<number>();
    // A seeded generator (Lehmer), so which requests fail is the same on every run.
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (const rule of rules) {
      stack.emulator.faults.set({ ...rule, random });
      for (const m of PORTALS) {
        const res = await openSettings(m);
        seen.add(res.status);
        expect([200, 503], `${JSON.stringify(rule)} → ${res.status}`).toContain(res.status);
        if (res.status === 503) expect(res.body).toContain('portal_unavailable');
        else expect(res.body).toContain('Demo Store');
      }
    }
    stack.emulator.faults.reset();
    expect(seen.has(200)).toBe(true);
    await expectAllTokensUsable();
  });

  it('expired tokens while OAuth fails: calls fail clearly, tokens survive, then refresh exactly once', async () => {
    const [m] = PORTALS as [string];
    const installation = (await stack.app.installations.find(m))!;
    const before = (await stack.app.installations.getTokens(installation.id))!;
    stack.emulator.expireTokens(m);
    stack.emulator.faults.set({ oauth: { errorRate: 1, errorStatus: 500 } });
    await expect(stack.app.clients.forInstallation(installation).app.info(undefined)).rejects.toMatchObject({
      kind: 'transient',
    });
    // Nothing was lost: the stored pair is the one we had.
    const during = (await stack.app.installations.getTokens(installation.id))!;
    expect(during.refreshToken).toBe(before.refreshToken);
    expect((await stack.app.installations.find(m))?.status).toBe('active');

    stack.emulator.faults.reset();
    const refreshesBefore = stack.emulator.stats.portal(m).refreshRequests;
    await Promise.all(
      Array.from({ length: 20 }, () => stack.app.clients.forInstallation(installation).app.info(undefined)),
    );
    expect(stack.emulator.stats.portal(m).refreshRequests - refreshesBefore).toBe(1);
    await expectAllTokensUsable();
  });

  it('a revoked app: needs_reinstall, a clear page, no hammering; a reinstall brings it back', async () => {
    const m = PORTALS[2]!;
    stack.emulator.revokeApp(m);
    const installation = (await stack.app.installations.find(m))!;
    stack.emulator.expireTokens(m);
    await expect(stack.app.clients.forInstallation(installation).app.info(undefined)).rejects.toMatchObject({
      kind: 'reinstall',
    });
    expect((await stack.app.installations.find(m))?.status).toBe('needs_reinstall');
    const refreshes = stack.emulator.stats.portal(m).refreshRequests;
    await expect(stack.app.clients.forInstallation(installation).app.info(undefined)).rejects.toMatchObject({
      kind: 'reinstall',
    });
    expect(stack.emulator.stats.portal(m).refreshRequests).toBe(refreshes);

    expect((await stack.emulator.installApp(m)).status).toBe(200);
    stack.emulator.finishInstall(m);
    const page = await stack.emulator.openPlacement(m, { placement: 'LANDING_SETTINGS' });
    expect(page.status).toBe(200);
    await expectAllTokensUsable();
  });
});

describe.runIf(TEST_PROVIDER === 'sqlite')('SQLite locked by another writer', () => {
  it('answers 503 database_unavailable, changes nothing, and works once the lock is gone', async () => {
    const { db } = createDb(stack.testDb.url, { busyTimeoutMs: 150 });
    // A second app process on the same file, with the same key, whose writers give up quickly.
    const key = stack.config.tokenEncryptionKey!.toString('hex');
    const { app } = await buildTestApp(
      stack.testDb,
      { TOKEN_ENCRYPTION_KEY: key },
      { db: { db, provider: 'sqlite' } },
    );
    const m = PORTALS[1]!;
    await app.installations.setApplicationToken((await app.installations.find(m))!.id, 'a0a0a0a0b1b1b1b1');
    const installation = (await app.installations.find(m))!;
    const uninstall = () =>
      app.inject({
        method: 'POST',
        url: '/events',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `event=ONAPPUNINSTALL&data[CLEAN]=0&auth[domain]=${installation.domain}&auth[member_id]=${m}&auth[application_token]=${installation.applicationToken ?? 'none'}`,
      });
    const lock = new Database(stack.testDb.url.slice('file:'.length));
    lock.exec('BEGIN EXCLUSIVE');
    try {
      const res = await uninstall();
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'database_unavailable' });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect((await app.installations.find(m))?.status).toBe('active');
    await app.close();
    await db.$disconnect();
    await expectAllTokensUsable();
  });
});

describe.runIf(TEST_PROVIDER === 'postgresql')('PostgreSQL going away and coming back', () => {
  it('answers 503 while it refuses connections and recovers by itself', async () => {
    const name = new URL(stack.testDb.url).pathname.slice(1);
    await adminQuery(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    try {
      expect((await stack.app.inject('/healthz')).statusCode).toBe(503);
      const page = await stack.emulator.openPlacement(PORTALS[0]!, { placement: 'LANDING_SETTINGS' });
      expect(page.status).toBe(503);
      expect(page.body).toContain('database_unavailable');
    } finally {
      await adminQuery(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }
    expect((await stack.app.inject('/healthz')).statusCode).toBe(200);
    await expectAllTokensUsable();
  });
});
