// The client's leaky bucket really waits (issue #18: a bucket that never slept passed every
// test, which counted reservations only). Fake timers and a hand-moved clock: no real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeakyBucket } from '../../src/bitrix24/leaky-bucket.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Resolves `promise` into a flag the test can read without awaiting it. */
function watch(promise: Promise<unknown>) {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

describe('leaky bucket waits', () => {
  it('past its limit a request is held for exactly (excess / drain) seconds', async () => {
    let now = 0;
    // X = 10, one in flight, one slot of headroom: the limit is 8 requests.
    const bucket = new LeakyBucket({ capacity: 10, drainPerSecond: 2, maxInFlight: 1 }, () => now);
    expect(bucket.limit).toBe(8);
    for (let i = 0; i < 8; i += 1) (await bucket.acquire())();
    const ninth = bucket.acquire();
    const state = watch(ninth);
    await vi.advanceTimersByTimeAsync(499);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.settled).toBe(true);
    (await ninth)();
    expect(bucket.getStats()).toMatchObject({ reserved: 9, delayed: 1, totalDelayMs: 500 });
    // The model drains with the clock: a second later, two slots are free again.
    now += 1500;
    const tenth = watch(bucket.acquire().then((release) => release()));
    await vi.advanceTimersByTimeAsync(0);
    expect(tenth.settled).toBe(true);
  });

  it('a request waits for a free in-flight slot, and gets it when one is released', async () => {
    const bucket = new LeakyBucket({ capacity: 50, drainPerSecond: 2, maxInFlight: 2 }, () => 0);
    const first = await bucket.acquire();
    await bucket.acquire();
    const third = watch(bucket.acquire());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(third.settled).toBe(false);
    first();
    first(); // releasing twice frees one slot only
    await vi.advanceTimersByTimeAsync(0);
    expect(third.settled).toBe(true);
    const fourth = watch(bucket.acquire());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fourth.settled).toBe(false);
  });

  it('after the server says the bucket is full, the next request waits for it to drain', async () => {
    const bucket = new LeakyBucket({ capacity: 10, drainPerSecond: 2, maxInFlight: 1 }, () => 0);
    bucket.markFull();
    expect(bucket.currentLevel()).toBe(10);
    const next = watch(bucket.acquire());
    // Level 11 against a limit of 8: (11 − 8) / 2 s = 1.5 s.
    await vi.advanceTimersByTimeAsync(1_499);
    expect(next.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next.settled).toBe(true);
  });
});
