// Every completed request is logged with its method, route pattern, status code and response
// time, read back from the JSON lines the app's logger wrote to its destination stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

interface Completed {
  reqId: string;
  res: { statusCode: number | null; method: string; route: string | null };
  responseTime: number;
}

describe('request log', () => {
  it('"request completed" names method, route, status and time', async () => {
    const { app, logs } = await buildTestApp(testDb);
    await app.inject('/healthz');
    await app.inject({
      method: 'POST',
      url: '/events?secret=query-value',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'event=ONAPPUNINSTALL',
    });
    await app.inject('/no/such/page');
    await app.close();

    const completed = logs.lines
      .map((line) => JSON.parse(line) as { msg: string } & Completed)
      .filter((entry) => entry.msg === 'request completed');
    expect(completed.map((c) => c.res)).toEqual([
      { statusCode: 200, method: 'GET', route: '/healthz' },
      { statusCode: 400, method: 'POST', route: '/events' },
      { statusCode: 404, method: 'GET', route: null },
    ]);
    for (const c of completed) {
      expect(c.responseTime).toBeTypeOf('number');
      expect(c.responseTime).toBeGreaterThan(0);
      expect(c.reqId).toMatch(/^req-/);
    }
    // The route pattern, never the URL with its query.
    expect(logs.text).not.toContain('query-value');
  });
});
