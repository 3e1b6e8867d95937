// The operating limit (480 s of execution per method in 10 minutes): the emulator reports
// `time.operating`; the client spaces calls out past 80% and stops before being blocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/bitrix24/errors.js';
import { appProcess, createTestEnv, type TestEnv } from './setup.js';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({
    process: { limits: { capacity: 50, drainPerSecond: 50, operating: { maxDelayMs: 400 } } },
  });
});
afterAll(() => env?.close());

const stats = () => env.emulator.stats.portal();

describe('operating limit', () => {
  it('slows a heavy method down near 480 s and stops before the portal blocks it', async () => {
    env.emulator.setMethodTime('app.info', 40); // each call "runs" 40 s on the portal
    const client = env.factory.forInstallation(env.installation);
    const limits = env.factory.limits.forPortal(env.installation.memberId).operating;

    for (let i = 0; i < 9; i++) await client.app.info();
    const tenthStarted = performance.now();
    await client.app.info();
    // Calls 1..10 run freely (operating ≤ 400 s of 480).
    expect(limits.getStats().slowedCalls).toBe(0);
    // 11 starts ≥ 70 ms after 10 (400 s used), 12 ≥ 246 ms after 11 (440 s): the nearer, the slower.
    await client.app.info();
    await client.app.info();
    expect(performance.now() - tenthStarted).toBeGreaterThanOrEqual(70 + 246);
    expect(limits.getStats()).toMatchObject({ slowedCalls: 2, operating: { 'app.info': 480 } });

    // 480 s spent: the next call is refused here, without a request, until the window resets.
    const refused = client.app.info();
    await expect(refused).rejects.toBeInstanceOf(RateLimitError);
    await expect(refused).rejects.toMatchObject({ code: 'OPERATION_TIME_LIMIT', status: 0 });
    expect((await refused.catch((e: RateLimitError) => e)).retryAfterMs).toBeGreaterThan(60_000);
    expect(stats().restByMethod['app.info']).toBe(12);
    expect(stats().operatingBlocked).toBe(0);
    // Other methods are not affected.
    await expect(client.user.current()).resolves.toMatchObject({ ID: 1 });
  });

  it("maps the portal's OPERATION_TIME_LIMIT to RateLimitError and stops sending that method", async () => {
    env.emulator.setMethodTime('landing.site.getList', 500);
    await env.factory.forInstallation(env.installation).landing.site.getList({});
    // Another process, which has not seen the method's usage, gets the portal's 429.
    const other = appProcess(env, env.testDb.connect(), { owner: 'other' });
    const client = other.factory.forInstallation(env.installation);
    const blocked = client.landing.site.getList({});
    await expect(blocked).rejects.toBeInstanceOf(RateLimitError);
    await expect(blocked).rejects.toMatchObject({ code: 'OPERATION_TIME_LIMIT', status: 429 });
    expect(stats().operatingBlocked).toBe(1);
    await expect(client.landing.site.getList({})).rejects.toMatchObject({
      code: 'OPERATION_TIME_LIMIT',
      status: 0,
    });
    expect(stats().restByMethod['landing.site.getList']).toBe(2);
  });
});
