// Idle portals keep their tokens (issue #13.5): the keep-alive job refreshes refresh tokens
// older than (lifetime − keep-alive) days, under the per-installation lease (two replicas
// never both refresh one portal), one portal at a time, visibly, and stops on close.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppMetrics } from '../../src/admin/metrics.js';
import { ConfigError } from '../../src/config.js';
import { TokenKeepAlive } from '../../src/installations/keepalive.js';
import type { Installation } from '../../src/installations/types.js';
import { appProcess, createTestEnv, type TestEnv } from '../bitrix24/setup.js';
import { buildTestApp, testConfig } from '../helpers/app.js';

const DAY = 24 * 3600 * 1000;
const MEMBERS = ['ka000001', 'ka000002', 'ka000003', 'ka000004', 'ka000005'];

let env: TestEnv;
let installations: Installation[];

beforeEach(async () => {
  env = await createTestEnv({ emulator: { portals: MEMBERS.map((memberId) => ({ memberId })) } });
  installations = [env.installation];
  for (const memberId of MEMBERS.slice(1)) {
    const portal = env.emulator.portal(memberId);
    const grant = env.emulator.issueTokens(memberId);
    installations.push(
      await env.store.save(
        { memberId, domain: portal.domain, clientEndpoint: portal.clientEndpoint, status: 'active' },
        {
          accessToken: grant.access_token,
          refreshToken: grant.refresh_token,
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      ),
    );
  }
});
afterEach(() => env?.close());

const oauthStats = () => env.emulator.stats.snapshot().oauth;

/** Pretends the stored refresh token was received at `at` (null: a row from before that was recorded). */
async function receivedAt(installation: Installation, at: Date | null) {
  await env.testDb.db.oAuthToken.update({
    where: { installationId: installation.id },
    data: { refreshedAt: at },
  });
}

function job(tokens = env.tokens, now = () => Date.now(), paceMs = 0) {
  return new TokenKeepAlive({
    store: env.store,
    tokens,
    lifetimeDays: 180,
    keepAliveDays: 30,
    intervalMs: 60_000,
    paceMs,
    clock: { now },
    logger: env.logs.logger,
  });
}

describe('token keep-alive', () => {
  it('refreshes only refresh tokens older than lifetime − keep-alive days (injected clock)', async () => {
    const base = Date.now();
    let now = base;
    const [due, notYet, unknown, recent, other] = installations as [
      Installation,
      Installation,
      Installation,
      Installation,
      Installation,
    ];
    await receivedAt(due, new Date(base - 151 * DAY));
    await receivedAt(notYet, new Date(base - 149 * DAY));
    await receivedAt(unknown, null); // age unknown: renewed to be safe
    await receivedAt(other, new Date(base - 10 * DAY));
    void recent; // just stored: 0 days
    const keepAlive = job(env.tokens, () => now);
    const before = await env.store.getTokens(due.id);

    expect(await keepAlive.runOnce()).toEqual({ candidates: 2, refreshed: 2, failed: 0, skipped: 0 });
    expect(oauthStats().refreshRequests).toBe(2);
    const after = (await env.store.getTokens(due.id))!;
    expect(after.version).toBe(before!.version + 1);
    expect(after.refreshedAt!.getTime()).toBeGreaterThanOrEqual(base - 1000);
    expect((await env.store.getTokens(unknown.id))!.refreshedAt).not.toBeNull();
    // The renewed pair works.
    await expect(env.factory.forInstallation(due).user.current()).resolves.toMatchObject({ ID: 1 });

    now = base + 2 * DAY; // `notYet` crosses the threshold
    expect(await keepAlive.runOnce()).toEqual({ candidates: 1, refreshed: 1, failed: 0, skipped: 0 });
    expect(oauthStats().refreshRequests).toBe(3);
    expect(keepAlive.stats).toMatchObject({ runs: 2, refreshed: 3, failed: 0, lastRunCandidates: 1 });
    expect(keepAlive.stats.lastRunFinishedAt).toBe(now);
  });

  it('against the emulator’s 180-day refresh tokens: a portal kept alive still works on day 190, an idle one is lost', async () => {
    const clock = env.emulator.clock;
    const proc = appProcess(env, env.testDb.connect(), { owner: 'emulator-time', tokens: { clock } });
    const [kept, lost, ...others] = installations as [Installation, Installation, ...Installation[]];
    clock.advance(170 * 86_400);
    // Only `kept` is due: the others look renewed just now (emulator time), so the job skips them.
    for (const i of [lost, ...others]) await receivedAt(i, new Date(clock.now()));
    const keepAlive = new TokenKeepAlive({
      store: proc.store,
      tokens: proc.tokens,
      lifetimeDays: 180,
      keepAliveDays: 30,
      intervalMs: 60_000,
      paceMs: 0,
      clock,
    });
    expect(await keepAlive.runOnce()).toMatchObject({ candidates: 1, refreshed: 1, failed: 0 });

    clock.advance(20 * 86_400); // day 190
    await expect(proc.factory.forInstallation(kept).user.current()).resolves.toMatchObject({ ID: 1 });
    await expect(proc.factory.forInstallation(lost).user.current()).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    expect((await env.store.findById(kept.id))!.status).toBe('active');
    expect((await env.store.findById(lost.id))!.status).toBe('needs_reinstall');
  });

  it('two replicas running the job at once refresh each portal exactly once', async () => {
    for (const i of installations) await receivedAt(i, new Date(Date.now() - 170 * DAY));
    const other = appProcess(env, env.testDb.connect(), { owner: 'replica-b' });
    const a = job(env.tokens);
    const b = job(other.tokens);
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(ra.refreshed + rb.refreshed).toBe(MEMBERS.length);
    expect(ra.failed + rb.failed).toBe(0);
    expect(oauthStats().refreshRequests).toBe(MEMBERS.length);
    expect(oauthStats().refreshFailures).toBe(0);
    for (const i of installations) expect((await env.store.findById(i.id))!.status).toBe('active');
    // Nothing is due any more.
    expect((await a.runOnce()).candidates).toBe(0);
  });

  it('a portal whose grant is gone is marked once and left alone by later runs', async () => {
    for (const i of installations) await receivedAt(i, new Date(Date.now() - 170 * DAY));
    const lost = installations[2]!;
    env.emulator.revokeApp(lost.memberId);
    const keepAlive = job();
    expect(await keepAlive.runOnce()).toMatchObject({ refreshed: MEMBERS.length - 1, failed: 1 });
    expect((await env.store.findById(lost.id))!.status).toBe('needs_reinstall');
    const asked = oauthStats().requests;
    await keepAlive.runOnce();
    expect(oauthStats().requests).toBe(asked);
  });

  it('is paced, and stop() ends a run between portals without waiting out the pause', async () => {
    for (const i of installations) await receivedAt(i, new Date(Date.now() - 170 * DAY));
    const keepAlive = new TokenKeepAlive({
      store: env.store,
      tokens: env.tokens,
      lifetimeDays: 180,
      keepAliveDays: 30,
      intervalMs: 60_000,
      firstRunDelayMs: 0,
      paceMs: 10_000,
    });
    keepAlive.start();
    for (let i = 0; i < 100 && oauthStats().refreshRequests === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(oauthStats().refreshRequests).toBe(1); // the next portal waits for the pause
    const stopping = Date.now();
    await keepAlive.stop();
    // Half the 10 s pause it must not wait out: the point, with room for a loaded machine.
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(oauthStats().refreshRequests).toBe(1);
    expect(keepAlive.stats.runs).toBe(1);
  });
});

describe('visibility and configuration', () => {
  it('/metrics shows keep-alive refreshes, candidates and the last run', async () => {
    const metrics = new AppMetrics();
    const stats = {
      refreshed: 3,
      failed: 1,
      skipped: 2,
      lastRunCandidates: 6,
      lastRunFinishedAt: 1_700_000_000_000,
    };
    metrics.catchUp({
      installations: [],
      buckets: [],
      tokens: { waitedForOtherProcess: 0 },
      keepAlive: stats,
    });
    metrics.catchUp({
      installations: [],
      buckets: [],
      tokens: { waitedForOtherProcess: 0 },
      keepAlive: { ...stats, refreshed: 5 },
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('b24_keepalive_refreshes_total{outcome="refreshed"} 5');
    expect(text).toContain('b24_keepalive_refreshes_total{outcome="failed"} 1');
    expect(text).toContain('b24_keepalive_candidates 6');
    expect(text).toContain('b24_keepalive_last_run_timestamp_seconds 1700000000');
  });

  it('the app wires it: GET /metrics reports the last run; close() stops a started job', async () => {
    const { app } = await buildTestApp(env.testDb, { METRICS_ENABLED: 'true' });
    try {
      const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(await scrape()).toContain('b24_keepalive_last_run_timestamp_seconds 0');
      // Nothing is due (every pair was just stored), so no OAuth request leaves the test.
      expect(await app.keepAlive.runOnce()).toMatchObject({ candidates: 0 });
      const text = await scrape();
      expect(text).toMatch(/b24_keepalive_last_run_timestamp_seconds \d{10}/);
      expect(text).toContain('b24_keepalive_candidates 0');
    } finally {
      app.keepAlive.start();
      await app.close();
    }
    // Stopped for good: a start after close schedules nothing.
    app.keepAlive.start();
    expect(app.keepAlive.stats.runs).toBe(1);
  });

  it('B24_KEEPALIVE_DAYS and B24_REFRESH_TOKEN_LIFETIME_DAYS: defaults 30 and 180; keep-alive must be shorter', () => {
    expect(testConfig().bitrix24.keepAlive).toEqual({ lifetimeDays: 180, days: 30, intervalMs: 3_600_000 });
    expect(
      testConfig({ B24_KEEPALIVE_DAYS: '10', B24_KEEPALIVE_INTERVAL_MINUTES: '0' }).bitrix24.keepAlive,
    ).toEqual({ lifetimeDays: 180, days: 10, intervalMs: 0 });
    expect(() => testConfig({ B24_KEEPALIVE_DAYS: '180' })).toThrow(ConfigError);
    expect(() => testConfig({ B24_KEEPALIVE_DAYS: '180' })).toThrow(/B24_KEEPALIVE_DAYS must be less/);
  });
});
