import { describe, expect, it } from 'vitest';
import { ViewCache } from '../../src/placements/view-cache.js';

describe('ViewCache', () => {
  it('loads once for concurrent misses, serves hits until the TTL, and drops a portal on invalidate', async () => {
    let now = 0;
    const cache = new ViewCache(1000, 100, () => now);
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

  it('stays within its bound', async () => {
    const cache = new ViewCache(60_000, 10);
    for (let i = 0; i < 100; i++) await cache.get(`m${i}`, 1, 'v', async () => i);
    expect(cache.size).toBe(10);
  });
});
