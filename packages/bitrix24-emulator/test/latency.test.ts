// The emulator's added latency (a test and benchmark aid: a real portal is 50-300 ms away),
// per portal, on every REST and OAuth answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { refreshAt } from '../src/testing.js';

let emulator: EmulatorHandle;
beforeAll(async () => {
  emulator = await startEmulator({
    latencyMs: 120,
    portals: [{ memberId: 'slow0001' }, { memberId: 'fast0001', latencyMs: 0 }],
  });
});
afterAll(async () => emulator?.close());

async function timed(fn: () => Promise<Response>) {
  const started = performance.now();
  const res = await fn();
  await res.text();
  return { ms: performance.now() - started, status: res.status };
}

const restCall = (memberId: string, token: string) => () =>
  fetch(`${emulator.portal(memberId).clientEndpoint}app.info.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: token }),
  });

const refresh = (token: string) => () => refreshAt(emulator, token);

describe('added latency', () => {
  it('delays every REST and OAuth answer of a slow portal, and not those of a fast one', async () => {
    const slow = emulator.issueTokens('slow0001');
    const fast = emulator.issueTokens('fast0001');
    const slowRest = await timed(restCall('slow0001', slow.access_token));
    const slowOAuth = await timed(refresh(slow.refresh_token));
    expect(slowRest).toMatchObject({ status: 200 });
    expect(slowOAuth).toMatchObject({ status: 200 });
    expect(slowRest.ms).toBeGreaterThanOrEqual(115);
    expect(slowOAuth.ms).toBeGreaterThanOrEqual(115);
    // A lower bound only: the fast portal's answers do not wait the slow one's 120 ms.
    const fastRest = await timed(restCall('fast0001', fast.access_token));
    expect(fastRest.status).toBe(200);
    // Real sockets (the latency is the emulator's real delay): relative to the slow call measured
    // in the same run, never an absolute bound; a pause longer than 120 ms could still flip it.
    expect(fastRest.ms).toBeLessThan(slowRest.ms);
  });

  it('can be changed at run time for one portal', async () => {
    emulator.setLatency(0, 'slow0001');
    const token = emulator.issueTokens('slow0001');
    emulator.setLatency(250, 'slow0001');
    const res = await timed(restCall('slow0001', token.access_token));
    expect(res.ms).toBeGreaterThanOrEqual(245);
  });
});
