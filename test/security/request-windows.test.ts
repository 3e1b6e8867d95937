// The counters behind the request limits (plugins/request-windows.ts): a window per key opened by
// its first request, closed exactly windowMs later; memory bounded by dropping the oldest window;
// addresses grouped the way a client could rotate them.
import { describe, expect, it } from 'vitest';
import { addressKey, RequestWindows } from '../../src/plugins/request-windows.js';

describe('RequestWindows', () => {
  it('counts per key from the first request; a window closes exactly windowMs after it opened', () => {
    const windows = new RequestWindows(1_000);
    expect(windows.hit('a', 0)).toEqual({ count: 1, resetAt: 1_000 });
    expect(windows.hit('a', 999)).toEqual({ count: 2, resetAt: 1_000 });
    expect(windows.hit('b', 500)).toEqual({ count: 1, resetAt: 1_500 });
    expect(windows.hit('a', 1_000)).toEqual({ count: 1, resetAt: 2_000 });
    expect(windows.hit('b', 1_499)).toEqual({ count: 2, resetAt: 1_500 });
  });

  it('drops closed windows as new ones open, so idle keys cost nothing', () => {
    const windows = new RequestWindows(1_000);
    for (let i = 0; i < 100; i++) windows.hit(`key${i}`, i);
    expect(windows.size).toBe(100);
    windows.hit('late', 1_050);
    // key0..key50 closed at 1,000..1,050; key51..key99 are still open.
    expect(windows.size).toBe(50);
  });

  it('a renewed window counts as the newest: the bound drops older windows before it', () => {
    const windows = new RequestWindows(1_000, 2);
    windows.hit('a', 0);
    windows.hit('b', 500);
    // a's window closed at 1,000 and is renewed; b's is still open.
    expect(windows.hit('a', 1_200)).toEqual({ count: 1, resetAt: 2_200 });
    windows.hit('c', 1_300);
    // At the bound, b (opened at 500) goes, not the renewed a.
    expect(windows.hit('a', 1_400)).toEqual({ count: 2, resetAt: 2_200 });
    expect(windows.hit('b', 1_400)).toEqual({ count: 1, resetAt: 2_400 });
  });

  it('holds at most maxKeys windows: the oldest goes first, and its key starts afresh', () => {
    const windows = new RequestWindows(60_000, 3);
    for (const key of ['a', 'b', 'c']) windows.hit(key, 0);
    windows.hit('a', 1);
    windows.hit('d', 2);
    expect(windows.size).toBe(3);
    expect(windows.hit('b', 3)).toEqual({ count: 2, resetAt: 60_000 });
    expect(windows.size).toBe(3);
    expect(windows.hit('a', 4)).toEqual({ count: 1, resetAt: 60_004 });
  });
});

describe('addressKey', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2::1', '2001:db8:1:2::'],
    ['2001:DB8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::'],
    ['2001:db8:1:3::1', '2001:db8:1:3::'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::1', '::'],
    ['not:an:address', 'not:an:address'],
    ['NOT:AN:ADDRESS', 'not:an:address'],
  ])('%s → %s', (ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });
});
