// A test-sized load run on loopback: widget opens across 100 portals (autocannon, bounded in
// count), while every portal's installation tokens expire and are used concurrently.
// Zero 5xx, exactly one refresh per portal per expiry, p99 printed (figures: README).
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

const PORTALS = Array.from({ length: 100 }, (_, i) => `10ad${String(i).padStart(4, '0')}`);
let stack: Stack;
const bodies: string[] = [];
const paths: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    emulator: { portals: PORTALS.map((memberId) => ({ memberId })) },
    env: { RATE_LIMIT_PER_IP: '1000000', LOG_LEVEL: 'warn' },
  });
  for (const m of PORTALS) {
    expect((await stack.emulator.installApp(m)).status).toBe(200);
    stack.emulator.finishInstall(m);
    const open = await stack.emulator.openPlacement(m, {
      placement: PORTALS.indexOf(m) % 2 ? 'LANDING_BLOCK_*' : 'LANDING_SETTINGS',
    });
    expect(open.status).toBe(200);
    const url = new URL(open.payload.action);
    paths.push(`${url.pathname}${url.search}`);
    bodies.push(new URLSearchParams(open.payload.body).toString());
  }
}, 120_000);
afterAll(async () => stack?.close());

describe('load', () => {
  it('serves widget opens across 100 portals under concurrent token expiry: no 5xx, one refresh per expiry', async () => {
    const refreshesBefore = new Map(PORTALS.map((m) => [m, stack.emulator.stats.portal(m).refreshRequests]));
    let next = 0;
    const load = autocannon({
      url: stack.appUrl,
      connections: 20,
      amount: 4000,
      timeout: 20,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (request) => {
            const i = next++ % bodies.length;
            return { ...request, path: paths[i]!, body: bodies[i]! };
          },
        },
      ],
    });

    // Meanwhile: every portal's installation tokens expire, and five calls per portal use them.
    await new Promise((r) => setTimeout(r, 300));
    // Only the installations' own access tokens: the users' widget tokens stay valid, as they would.
    for (const m of PORTALS) {
      const installation = (await stack.app.installations.find(m))!;
      stack.emulator.expireAccessToken(
        (await stack.app.installations.getTokens(installation.id))!.accessToken,
      );
    }
    const calls = await Promise.allSettled(
      PORTALS.flatMap((m) =>
        Array.from({ length: 5 }, async () => {
          const installation = (await stack.app.installations.find(m))!;
          return stack.app.clients.forInstallation(installation).app.info(undefined);
        }),
      ),
    );
    const result = await load;

    const failed = calls.filter((c) => c.status === 'rejected');
    expect(failed.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
    for (const m of PORTALS) {
      expect(stack.emulator.stats.portal(m).refreshRequests - refreshesBefore.get(m)!, m).toBe(1);
    }
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result['5xx']).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBe(4000);
    console.log(
      `load: ${result['2xx']} widget opens over 100 portals, ${Math.round(result.requests.average)} req/s, ` +
        `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
        `500 installation calls during a 100-portal token expiry, 100 refreshes`,
    );
  }, 120_000);
});
