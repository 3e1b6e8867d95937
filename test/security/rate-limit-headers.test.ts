// The per-address limit's answer, header by header (issue #18, mutation survivors of
// rate-limits.ts): answers within the limit carry no limit headers, the refusal says the limit
// and when to retry, and a route with an onRequest hook of its own keeps it beside the limit.
// Date is faked: the window's seconds are exact.
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
  it('none while within the limit, then 429 with the limit and retry-after; a new window after exactly a minute', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await app.inject('/test/limited');
      answers.push({ status: res.statusCode, ...limitHeaders(res.headers) });
      vi.setSystemTime(Date.now() + 10_000);
    }
    expect(answers).toEqual([
      { status: 200 },
      { status: 200 },
      { status: 200 },
      {
        status: 429,
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '30',
        'retry-after': '30',
      },
    ]);
    vi.setSystemTime(Date.now() + 19_999);
    const last = await app.inject('/test/limited');
    expect([last.statusCode, last.headers['retry-after'], last.headers['x-ratelimit-reset']]).toEqual([
      429,
      '1',
      '1',
    ]);
    vi.setSystemTime(Date.now() + 1);
    const fresh: number[] = [];
    for (let i = 0; i < 4; i++) fresh.push((await app.inject('/test/limited')).statusCode);
    expect(fresh).toEqual([200, 200, 200, 429]);
  });

  it('a route’s own onRequest hook still runs, and the limit with it', async () => {
    const res = await app.inject('/test/own-hook');
    expect({ status: res.statusCode, ...limitHeaders(res.headers) }).toEqual({
      status: 200,
      'x-own-hook': 'ran',
    });
    for (let i = 0; i < 2; i++) await app.inject('/test/own-hook');
    const refused = await app.inject('/test/own-hook');
    // The limit runs first: a refused request goes no further, the route's own hook included.
    expect({ status: refused.statusCode, ...limitHeaders(refused.headers) }).toEqual({
      status: 429,
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '60',
      'retry-after': '60',
    });
  });
});
