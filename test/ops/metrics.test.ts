// GET /metrics: off by default, optionally behind a bearer token, and counting what actually
// happened between our app and the emulated portals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { MEMBER_IDS, type OpsStack, sample, startOpsStack } from './helpers.js';

const [first, second] = MEMBER_IDS as [string, string];
const METRICS_TOKEN = 'metrics-token-0123456789';

describe('metrics off or protected', () => {
  it('is 404 unless METRICS_ENABLED; with METRICS_TOKEN it needs the bearer token', async () => {
    const testDb = await createTestDatabase();
    const off = await buildTestApp(testDb);
    const on = await buildTestApp(testDb, { METRICS_ENABLED: 'true', METRICS_TOKEN });
    try {
      expect((await off.app.inject({ url: '/metrics' })).statusCode).toBe(404);
      expect((await on.app.inject({ url: '/metrics' })).statusCode).toBe(401);
      const wrong = await on.app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      const res = await on.app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
      expect(res.body).toContain('process_cpu_user_seconds_total');
    } finally {
      await off.app.close();
      await on.app.close();
      await testDb.close();
    }
  });
});

describe('metrics on', () => {
  let stack: OpsStack;
  beforeAll(async () => {
    stack = await startOpsStack({
      portals: [first, second],
      // A small client bucket (limit 1 request, 10/s) so a burst of calls has to wait.
      env: { METRICS_ENABLED: 'true', B24_RATE_LIMIT_BURST: '10', B24_RATE_LIMIT_PER_SECOND: '10' },
    });
  });
  afterAll(async () => stack?.close());

  const scrape = async () => {
    const res = await fetch(`${stack.appUrl}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const clientOf = async (memberId: string) =>
    stack.app.clients.forInstallation((await stack.app.installations.find(memberId))!);

  it('counts requests by route and status, install refreshes and batch commands', async () => {
    await fetch(`${stack.appUrl}/healthz`);
    await fetch(`${stack.appUrl}/no/such/page`);
    const text = await scrape();
    expect(sample(text, 'http_requests_total', { route: '/install', method: 'POST', status: '200' })).toBe(2);
    expect(sample(text, 'http_requests_total', { route: '/healthz', status: '200' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    // Each install had its tokens confirmed without a refresh and bound in one batch of 6 commands.
    expect(sample(text, 'b24_token_refreshes_total', { outcome: 'ok' })).toBe(0);
    expect(sample(text, 'b24_rest_requests_total', { method: 'batch', outcome: 'ok' })).toBe(2);
    expect(
      sample(text, 'b24_rest_batch_commands_total', { method: 'landing.repo.bind', outcome: 'ok' }),
    ).toBe(4);
    expect(sample(text, 'b24_rest_batch_commands_total', { method: 'event.bind', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'b24_rest_batch_commands_total', { method: 'landing.repo.unbind' })).toBe(4);
    expect(sample(text, 'b24_installations', { status: 'active' })).toBe(2);
  });

  it('counts REST calls by outcome, 503s received and rate-limit waits', async () => {
    const client = await clientOf(first);
    // The emulator answers an injected 503 as Bitrix24 does: QUERY_LIMIT_EXCEEDED.
    stack.emulator.faults.failNext(1, { status: 503, target: 'app.info' });
    await client.app.info(undefined); // refused, then retried
    await Promise.all(Array.from({ length: 4 }, () => client.app.info(undefined)));
    const text = await scrape();
    expect(sample(text, 'b24_rest_requests_total', { method: 'app.info', outcome: 'ok' })).toBe(5);
    expect(
      sample(text, 'b24_rest_requests_total', { method: 'app.info', outcome: 'QUERY_LIMIT_EXCEEDED' }),
    ).toBe(1);
    expect(sample(text, 'b24_responses_503_total', { target: 'rest' })).toBe(1);
    expect(sample(text, 'b24_rate_limit_waits_total')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'b24_rate_limit_wait_seconds_total')).toBeGreaterThan(0);
  });

  it('counts expired tokens, refreshes and refused refresh tokens', async () => {
    stack.emulator.expireTokens(first);
    await (await clientOf(first)).app.info(undefined);
    stack.emulator.revokeApp(second);
    await expect((await clientOf(second)).app.info(undefined)).rejects.toThrow(/invalid_grant/);
    const text = await scrape();
    expect(sample(text, 'b24_rest_requests_total', { method: 'app.info', outcome: 'expired_token' })).toBe(1);
    expect(sample(text, 'b24_token_errors_total', { code: 'expired_token' })).toBe(1);
    expect(sample(text, 'b24_token_refreshes_total', { outcome: 'ok' })).toBe(1);
    expect(sample(text, 'b24_token_refreshes_total', { outcome: 'invalid_grant' })).toBe(1);
    expect(sample(text, 'b24_token_errors_total', { code: 'invalid_grant' })).toBe(1);
    expect(sample(text, 'b24_installations', { status: 'needs_reinstall' })).toBe(1);
  });
});
