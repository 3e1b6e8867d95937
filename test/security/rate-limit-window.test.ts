// The request limits (plugins/rate-limits.ts, request-windows.ts): IPv6 clients counted per /64,
// and the per-portal window, a minute from its first request (the per-address headers and window:
// rate-limit-headers.test.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());
afterEach(() => {
  vi.useRealTimers();
});

const event = (memberId: string, remoteAddress = '127.0.0.1') => ({
  method: 'POST' as const,
  url: '/events',
  remoteAddress,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: `event=ONTEST&auth[domain]=p.example.com&auth[member_id]=${memberId}&auth[application_token]=abc`,
});

describe('rate limit windows', () => {
  it('per address: IPv6 clients are counted per /64, IPv4-mapped addresses as IPv4', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '1', RATE_LIMIT_PER_PORTAL: '1000' });
    const statuses = [];
    for (const address of [
      '2001:db8:1:2::1',
      '2001:db8:1:2::ffff',
      '2001:db8:1:3::1',
      '10.1.2.3',
      '::ffff:10.1.2.3',
    ]) {
      statuses.push((await app.inject(event(`p${statuses.length}`, address))).statusCode);
    }
    expect(statuses).toEqual([200, 429, 200, 200, 429]);
    await app.close();
  });

  it('per portal: the window closes a minute after its first request; no x-ratelimit headers of its own', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T00:00:00Z') });
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '1000', RATE_LIMIT_PER_PORTAL: '1' });
    expect((await app.inject(event('busy'))).statusCode).toBe(200);
    vi.setSystemTime(new Date('2026-12-05T00:00:30Z'));
    const refused = await app.inject(event('busy'));
    expect([
      refused.statusCode,
      refused.headers['retry-after'],
      refused.headers['x-ratelimit-remaining'],
    ]).toEqual([429, '30', undefined]);
    vi.setSystemTime(new Date('2026-12-05T00:01:00Z'));
    expect((await app.inject(event('busy'))).statusCode).toBe(200);
    await app.close();
  });
});
