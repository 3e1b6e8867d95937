// The per-address limit's answer, header by header (issue #18, mutation survivors of
// rate-limits.ts): x-ratelimit-* count down exactly, the refusal says when to retry, and a route
// with an onRequest hook of its own keeps it beside the limit. Date is faked: the window's
// seconds are exact.
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
let app: FastifyInstance;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-05T00:00:00Z') });
  // Built per test: the limit's hooks are attached while routes are registered (docs/mutation.md).
  ({ app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_PORTAL: '1000' }));
  app.get('/test/limited', async () => 'ok');
  app.get(
    '/test/own-hook',
    {
      onRequest: (_request, reply, done) => {
        reply.header('x-own-hook', 'ran');
        done();
      },
    },
    async () => 'ok',
  );
});
afterEach(async () => {
  await app.close();
  vi.useRealTimers();
});

const limitHeaders = (headers: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(headers).filter(([name]) => /^(x-ratelimit-|retry-after|x-own)/.test(name)),
  );

describe('per-address limit headers', () => {
  it('count down to 0, then 429 with retry-after; a new window starts after exactly a minute', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await app.inject('/test/limited');
      answers.push({ status: res.statusCode, ...limitHeaders(res.headers) });
      vi.setSystemTime(Date.now() + 10_000);
    }
    expect(answers).toEqual([
      { status: 200, 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60' },
      { status: 200, 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '50' },
      { status: 200, 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '40' },
      {
        status: 429,
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '30',
        'retry-after': '30',
      },
    ]);
    vi.setSystemTime(Date.now() + 19_999);
    expect((await app.inject('/test/limited')).statusCode).toBe(429);
    vi.setSystemTime(Date.now() + 1);
    const fresh = await app.inject('/test/limited');
    expect({ status: fresh.statusCode, ...limitHeaders(fresh.headers) }).toEqual({
      status: 200,
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '60',
    });
  });

  it('a route’s own onRequest hook still runs, and the limit with it', async () => {
    const res = await app.inject('/test/own-hook');
    expect({ status: res.statusCode, ...limitHeaders(res.headers) }).toEqual({
      status: 200,
      'x-own-hook': 'ran',
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '60',
    });
  });
});
