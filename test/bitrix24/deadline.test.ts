// The REST client under a deadline: pacing, operating-time waits, retries and token waits all
// end by it, from an explicit option or from the request being handled (runWithDeadline).
// Without one (background work) nothing changes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AccessTokenSource, StaticAccessToken } from '../../src/bitrix24/access-token.js';
import {
  currentDeadline,
  Deadline,
  DeadlineExceededError,
  runWithDeadline,
} from '../../src/bitrix24/deadline.js';
import { TransientError } from '../../src/bitrix24/errors.js';
import { LeakyBucket } from '../../src/bitrix24/leaky-bucket.js';
import { OperatingLimiter } from '../../src/bitrix24/operating-limit.js';
import { RestClient } from '../../src/bitrix24/rest-client.js';

const ENDPOINT = 'https://portal.example.com/rest/';

function client(fetchImpl: typeof fetch, options: { tokens?: AccessTokenSource; bucket?: LeakyBucket } = {}) {
  const limits = {
    bucket: options.bucket ?? new LeakyBucket({ capacity: 50, drainPerSecond: 50 }),
    operating: new OperatingLimiter(),
  };
  const rest = new RestClient({
    endpoint: ENDPOINT,
    memberId: 'm1',
    tokens: options.tokens ?? new StaticAccessToken('token-123456'),
    limits,
    fetch: fetchImpl,
    retry: { baseDelayMs: 100, maxDelayMs: 400 },
  });
  return { rest, limits };
}

/** A portal that never answers (until the request is aborted). */
const hanging: typeof fetch = (_url, init) =>
  new Promise((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
  });

const answering500 = (counter: { calls: number }): typeof fetch =>
  (async () => {
    counter.calls += 1;
    return new Response('{"error":"INTERNAL_SERVER_ERROR","error_description":"boom"}', { status: 500 });
  }) as typeof fetch;

// Fake timers and a fake performance.now (the deadline's clock): each call settles at an exact
// moment of fake time, so the bounds below are exact and a loaded machine cannot move them.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `work`, moving fake time 1 ms at a time until it settles; `ms` is when it settled. */
async function timed<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const started = performance.now();
  let settled: { result: PromiseSettledResult<T>; ms: number } | undefined;
  void Promise.allSettled([work()]).then(([result]) => {
    settled = { result: result!, ms: performance.now() - started };
  });
  while (!settled) {
    if (performance.now() - started > 60_000) throw new Error('did not settle within a minute of fake time');
    await vi.advanceTimersByTimeAsync(1);
  }
  return settled;
}

function rejection(result: PromiseSettledResult<unknown>): unknown {
  expect(result.status).toBe('rejected');
  return (result as PromiseRejectedResult).reason;
}

describe('deadline', () => {
  it('aborts a call the portal never answers at the deadline (explicit or the request’s own)', async () => {
    const { rest } = client(hanging);
    const explicit = await timed(() => rest.call('app.info', {}, { deadline: Deadline.after(300) }));
    expect(rejection(explicit.result)).toBeInstanceOf(DeadlineExceededError);
    expect(explicit.ms).toBe(300);

    const ambient = await timed(() => runWithDeadline(Deadline.after(300), () => rest.call('app.info')));
    expect(rejection(ambient.result)).toBeInstanceOf(DeadlineExceededError);
    expect(ambient.ms).toBe(300);
    expect(currentDeadline()).toBeUndefined();
  });

  it('retries only while a retry still fits, then gives up with the portal’s own error', async () => {
    const counter = { calls: 0 };
    const { rest } = client(answering500(counter));
    const bounded = await timed(() => rest.call('app.info', {}, { deadline: Deadline.after(250) }));
    expect(rejection(bounded.result)).toBeInstanceOf(TransientError);
    expect(bounded.ms).toBeLessThanOrEqual(250);
    const underDeadline = counter.calls;
    expect(underDeadline).toBeGreaterThanOrEqual(1);

    // Background work (no deadline) keeps the full retry budget: 4 attempts for a read.
    counter.calls = 0;
    expect(rejection((await timed(() => rest.call('app.info'))).result)).toBeInstanceOf(TransientError);
    expect(counter.calls).toBe(4);
    expect(underDeadline).toBeLessThan(4);
  });

  it('a bucket turn that would come after the deadline is refused at once and given back', async () => {
    const bucket = new LeakyBucket({ capacity: 10, drainPerSecond: 1, maxInFlight: 1, headroom: 0 });
    // Fill the model: the next turn is seconds away.
    for (let i = 0; i < 12; i++) bucket.reserve();
    const level = bucket.currentLevel();
    const { rest } = client(hanging, { bucket });
    const refused = await timed(() => rest.call('app.info', {}, { deadline: Deadline.after(1000) }));
    expect(rejection(refused.result)).toBeInstanceOf(DeadlineExceededError);
    expect((rejection(refused.result) as DeadlineExceededError).during).toContain('rate limit');
    expect(refused.ms).toBe(0);
    // The refused request never went out, so it does not count against the portal's bucket.
    expect(bucket.currentLevel()).toBeLessThanOrEqual(level);
  });

  it('an operating-time wait that cannot end before the deadline is not started', async () => {
    const { rest, limits } = client(hanging);
    // 476 of 480 s spent, the window resets in 20 s: without a deadline the call waits 20 s.
    limits.operating.record('app.info', { operating: 476, finish: 1000, operating_reset_at: 1020 });
    const refused = await timed(() => rest.call('app.info', {}, { deadline: Deadline.after(2000) }));
    expect(rejection(refused.result)).toBeInstanceOf(DeadlineExceededError);
    expect((rejection(refused.result) as DeadlineExceededError).during).toContain('operating time');
    expect(refused.ms).toBe(0);
  });

  it('stops waiting for a token at the deadline without cancelling the refresh behind it', async () => {
    let finishRefresh: (token: string) => void = () => {};
    const refresh = new Promise<string>((resolve) => {
      finishRefresh = resolve;
    });
    const tokens: AccessTokenSource = { get: () => refresh, renew: () => refresh };
    const { rest } = client(hanging, { tokens });
    const waited = await timed(() => rest.call('app.info', {}, { deadline: Deadline.after(200) }));
    expect(rejection(waited.result)).toBeInstanceOf(DeadlineExceededError);
    expect(waited.ms).toBe(200);
    finishRefresh('fresh-token-123');
    await expect(refresh).resolves.toBe('fresh-token-123');
  });
});
