// The deadline's last resort (plugins/deadline.ts): a request still unanswered once its arrival's
// event-loop turn is done gets a timer, and at the deadline plus grace the deadline page; the
// requests answered within their turn need none and are left as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_GRACE_MS } from '../../src/plugins/deadline.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

describe('deadline last resort', () => {
  it('answers the one request left hanging among answered ones, at the deadline plus grace', async () => {
    const { app } = await buildTestApp(testDb, { REQUEST_DEADLINE_MS: '100' });
    app.get('/test/answer', { config: { deadline: true } }, async () => 'ok');
    app.get('/test/hang', { config: { deadline: true } }, () => new Promise<never>(() => {}));
    const started = performance.now();
    const hanging = app.inject('/test/hang').then((res) => ({ res, ms: performance.now() - started }));
    const [first, second] = await Promise.all([app.inject('/test/answer'), app.inject('/test/answer')]);
    expect([first.statusCode, first.body, second.statusCode, second.body]).toEqual([200, 'ok', 200, 'ok']);
    const { res, ms } = await hanging;
    expect([res.statusCode, res.json().error]).toEqual([503, 'deadline_exceeded']);
    expect(ms).toBeGreaterThanOrEqual(100 + DEADLINE_GRACE_MS - 5);
    await app.close();
  });
});
