import { describe, expect, it } from 'vitest';
import { ViewCache } from '../../src/placements/view-cache.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ViewCache', () => {
  it('loads once for concurrent misses, serves hits until the TTL, and drops a portal on invalidate', async () => {
    let now = 0;
    const cache = new ViewCache({ ttlMs: 1000, staleMs: 0, maxEntries: 100, now: () => now });
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 20));
      return { n: loads };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get('m', 1, 'v', load)));
    expect(loads).toBe(1);
    expect(new Set(results.map((r) => r.n))).toEqual(new Set([1]));
    now = 999;
    expect((await cache.get('m', 1, 'v', load)).n).toBe(1);
    now = 1001;
    expect((await cache.get('m', 1, 'v', load)).n).toBe(2);
    // Another user is another entry; an action on the portal drops both.
    expect((await cache.get('m', 2, 'v', load)).n).toBe(3);
    cache.invalidate('m');
    expect((await cache.get('m', 1, 'v', load)).n).toBe(4);
    expect((await cache.get('other', 1, 'v', load)).n).toBe(5);
  });

  it('past the TTL, shows the old view at once while one reload runs; too old, waits', async () => {
    let now = 0;
    const cache = new ViewCache({ ttlMs: 1000, staleMs: 500, now: () => now });
    let loads = 0;
    let release: (() => void) | undefined;
    const slowLoad = async () => {
      loads += 1;
      const n = loads;
      if (n > 1) await new Promise<void>((r) => (release = r));
      return n;
    };
    expect(await cache.get('m', 1, 'v', slowLoad)).toBe(1);
    now = 1200; // stale but within the window
    const during = await Promise.all(Array.from({ length: 20 }, () => cache.get('m', 1, 'v', slowLoad)));
    expect(during).toEqual(Array(20).fill(1));
    expect(loads).toBe(2); // one reload for all twenty
    release?.();
    await tick();
    expect(await cache.get('m', 1, 'v', slowLoad)).toBe(2);
    now = 1200 + 1000 + 501; // past TTL and stale window: the open waits for the portal
    const waited = cache.get('m', 1, 'v', slowLoad);
    await tick();
    release?.();
    expect(await waited).toBe(3);
  });

  it('a failed background reload keeps the old view until it is too old, then the error shows', async () => {
    let now = 0;
    const cache = new ViewCache({ ttlMs: 1000, staleMs: 500, now: () => now });
    expect(await cache.get('m', 1, 'v', async () => 'first')).toBe('first');
    now = 1100;
    const failing = async (): Promise<string> => {
      throw new Error('portal down');
    };
    expect(await cache.get('m', 1, 'v', failing)).toBe('first');
    await tick();
    expect(await cache.get('m', 1, 'v', failing)).toBe('first');
    now = 1600;
    await expect(cache.get('m', 1, 'v', failing)).rejects.toThrow('portal down');
  });

  it('stays within its bound, generations included', async () => {
    const cache = new ViewCache({ ttlMs: 60_000, maxEntries: 10 });
    for (let i = 0; i < 100; i++) await cache.get(`m${i}`, 1, 'v', async () => i);
    expect(cache.size).toBe(10);
    for (let i = 0; i < 100; i++) cache.invalidate(`m${i}`);
    // An invalidated portal never gets its old view back, even after generations were forgotten.
    expect(await cache.get('m99', 1, 'v', async () => 'new')).toBe('new');
    expect(cache.size).toBeLessThanOrEqual(10);
  });
});
