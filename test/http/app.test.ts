import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { AppError } from '../../src/errors.js';
import { buildTestApp, testConfig } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

describe('buildApp', () => {
  it('GET /healthz checks the database', async () => {
    const { app } = await buildTestApp(testDb);
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: testDb.provider });
    await app.close();
  });

  it('GET /healthz answers 503 when the database is unreachable', async () => {
    const app = await buildApp(
      testConfig({ DATABASE_URL: 'postgresql://app:pw@127.0.0.1:1/none', LOG_LEVEL: 'silent' }),
    );
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'database_unavailable' });
    await app.close();
  });

  it('answers failures as {error, message} JSON and never leaks 5xx details', async () => {
    const { app, logs } = await buildTestApp(testDb);
    app.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    app.get('/known', async () => {
      throw new AppError(409, 'already_done', 'This was already done.');
    });
    app.get('/page', { config: { html: true } }, async () => {
      throw new AppError(400, 'bad_thing', 'That <thing> is bad.');
    });
    const boom = await app.inject('/boom');
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: 'internal_error', message: expect.stringContaining('went wrong') });
    expect(boom.body).not.toContain('hunter2');
    expect(logs.text).toContain('hunter2'); // the operator still sees the cause in the log

    expect((await app.inject('/known')).json()).toEqual({
      error: 'already_done',
      message: 'This was already done.',
    });
    const page = await app.inject('/page');
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('That &lt;thing&gt; is bad.');
    expect(page.body).toContain('bad_thing');

    const missing = await app.inject('/nowhere?auth=secret');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'There is nothing at GET /nowhere.' });
    await app.close();
  });

  it('parses PHP-style bracketed form keys without prototype pollution', async () => {
    const { app } = await buildTestApp(testDb);
    app.post('/echo', async (request) => request.body);
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload:
        'event=ONAPPUNINSTALL&data[CLEAN]=1&auth[member_id]=abc&auth[__proto__][polluted]=yes&__proto__[x]=1',
    });
    expect(res.json()).toEqual({ event: 'ONAPPUNINSTALL', data: { CLEAN: '1' }, auth: { member_id: 'abc' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await app.close();
  });

  it('rejects bodies over the limit with 413 and a clear message', async () => {
    const { app } = await buildTestApp(testDb, { BODY_LIMIT_BYTES: '1024' });
    app.post('/echo', async (request) => request.body);
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `a=${'x'.repeat(2000)}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'body_too_large', message: expect.stringContaining('larger') });
    await app.close();
  });

  it('redacts tokens from request logs', async () => {
    const { app, logs } = await buildTestApp(testDb);
    app.post('/log', async (request) => {
      request.log.info({ body: request.body }, 'received');
      return { ok: true };
    });
    await app.inject({
      method: 'POST',
      url: '/log?auth=query-token-123',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'AUTH_ID=auth-id-secret&REFRESH_ID=refresh-secret&auth[access_token]=event-token&member_id=m',
    });
    for (const secret of ['query-token-123', 'auth-id-secret', 'refresh-secret', 'event-token']) {
      expect(logs.text).not.toContain(secret);
    }
    expect(logs.text).toContain('[redacted]');
    await app.close();
  });

  it('forbids framing by default and lets an HTML error page be framed by the portal that asked', async () => {
    const { app } = await buildTestApp(testDb);
    app.post('/widget', { config: { html: true } }, async () => {
      throw new AppError(400, 'invalid_payload', 'Field X is missing.');
    });
    const health = await app.inject('/healthz');
    expect(health.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(health.headers['x-frame-options']).toBeUndefined();
    // helmet's answer, worked out once at start-up and set on every response.
    expect(health.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-site',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    });
    expect(health.headers['cross-origin-embedder-policy']).toBeUndefined();
    expect(health.headers['x-powered-by']).toBeUndefined();
    const page = await app.inject({
      method: 'POST',
      url: '/widget?DOMAIN=portal.bitrix24.de&PROTOCOL=1&LANG=de',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'member_id=x',
    });
    expect(page.statusCode).toBe(400);
    expect(page.headers['content-security-policy']).toContain('frame-ancestors https://portal.bitrix24.de');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('lang="de"');
    expect(page.body).toContain('Die Anfrage konnte nicht verarbeitet werden');
    await app.close();
  });

  it('serves the Bitrix24 JS SDK from node_modules and the stylesheet', async () => {
    const { app } = await buildTestApp(testDb);
    const sdk = await app.inject('/vendor/b24jssdk/index.min.js');
    expect(sdk.statusCode).toBe(200);
    expect(sdk.body).toContain('B24Js');
    expect((await app.inject('/static/app.css')).statusCode).toBe(200);
    await app.close();
  });
});
