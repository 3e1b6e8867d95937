// Error answers the emulator produces, as the caller sees them: typed class, kind, code,
// HTTP status, method. (Codes the emulator cannot produce are covered in errors.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import {
  AccessError,
  AuthError,
  ParameterError,
  RateLimitError,
  TransientError,
} from '../../src/bitrix24/errors.js';
import { createTestEnv, type TestEnv } from './setup.js';

let env: TestEnv;
let client: Bitrix24Client;

beforeAll(async () => {
  // An app without user scopes, to provoke insufficient_scope.
  env = await createTestEnv({
    emulator: {
      apps: [{ clientId: 'local.scoped', clientSecret: 'scoped-secret', scope: 'landing,placement' }],
    },
    process: { retry: { readAttempts: 2, rateLimitRetries: 1 } },
  });
  client = env.factory.forInstallation(env.installation);
});
afterAll(() => env?.close());

describe('errors from the portal', () => {
  it.each([
    [
      'NO_AUTH_FOUND',
      401,
      AuthError,
      () => env.factory.forUser(env.installation, 'unknown0token').call('app.info'),
    ],
    ['insufficient_scope', 403, AccessError, () => client.user.current()],
    ['ERROR_METHOD_NOT_FOUND', 404, ParameterError, () => client.call('landing.nothing.here')],
    ['MISSING_PARAMS', 400, ParameterError, () => client.call('landing.syspage.get', {})],
    ['TYPE_ERROR', 400, ParameterError, () => client.call('landing.syspage.get', { id: 'thirty' })],
    [
      'SYSTEM_ERROR',
      400,
      ParameterError,
      () => client.landing.site.getList({ params: { select: ['NO_SUCH_FIELD'] } }),
    ],
    ['ACCESS_DENIED', 400, AccessError, () => client.landing.site.markDelete({ id: 4040 })],
    [
      'PLACEMENT_HANDLER_INVALID',
      400,
      ParameterError,
      () =>
        client.call('landing.repo.bind', {
          fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: 'nope' },
        }),
    ],
    [
      'PLACEMENT_UNKNOWN',
      400,
      ParameterError,
      () =>
        client.call('landing.repo.bind', {
          fields: { PLACEMENT: 'CRM_LEAD_TAB', PLACEMENT_HANDLER: 'https://a.test/' },
        }),
    ],
    ['ArgumentNullException', 400, ParameterError, () => client.call('app.option.set', { options: [] })],
  ] as const)('%s (HTTP %i)', async (code, status, cls, run) => {
    const failure = run();
    await expect(failure).rejects.toBeInstanceOf(cls);
    await expect(failure).rejects.toMatchObject({ code, status });
  });

  it('ACCESS_DENIED_DELETED when a domain provider is connected', async () => {
    env.emulator.setDomainProvider(undefined, true);
    const failure = client.landing.site.markDelete({ id: 31 });
    await expect(failure).rejects.toBeInstanceOf(AccessError);
    await expect(failure).rejects.toMatchObject({
      code: 'ACCESS_DENIED_DELETED',
      method: 'landing.site.markDelete',
    });
    env.emulator.setDomainProvider(undefined, false);
  });

  it('expired_token for a widget user is an AuthError, not a refresh', async () => {
    const user = env.emulator.issueTokens(undefined, 2);
    env.emulator.expireAccessToken(user.access_token);
    const failure = env.factory.forUser(env.installation, user.access_token).call('app.info');
    await expect(failure).rejects.toBeInstanceOf(AuthError);
    await expect(failure).rejects.toMatchObject({ code: 'expired_token', status: 401, kind: 'auth' });
  });

  it('INTERNAL_SERVER_ERROR and QUERY_LIMIT_EXCEEDED once retries are spent', async () => {
    env.emulator.faults.failNext(2, { status: 500, target: 'app.info' });
    await expect(client.app.info()).rejects.toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      status: 500,
      kind: 'transient',
    });
    env.emulator.faults.failNext(2, { status: 503, target: 'app.info' });
    const limited = client.app.info();
    await expect(limited).rejects.toBeInstanceOf(RateLimitError);
    await expect(limited).rejects.toMatchObject({
      code: 'QUERY_LIMIT_EXCEEDED',
      status: 503,
      kind: 'rate_limit',
    });
    await expect(client.app.info()).resolves.toMatchObject({ CODE: 'local.scoped' });
  });

  it('a failing batch command carries its own method and class', async () => {
    const out = await client.batch({
      scope: { method: 'user.current' },
      missing: { method: 'landing.syspage.get' },
    });
    expect(out.errors.scope).toBeInstanceOf(AccessError);
    expect(out.errors.scope).toMatchObject({ code: 'insufficient_scope', method: 'user.current' });
    expect(out.errors.missing).toBeInstanceOf(ParameterError);
    expect(out.errors.missing).toMatchObject({ code: 'MISSING_PARAMS', method: 'landing.syspage.get' });
  });

  it('client-side refusals never reach the portal', async () => {
    const before = env.emulator.stats.portal().restRequests;
    await expect(client.call('../../oauth/token')).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      kind: 'parameter',
    });
    await expect(client.call('batch', { cmd: {} })).rejects.toBeInstanceOf(ParameterError);
    await expect(client.batch({ nested: { method: 'batch' } })).rejects.toMatchObject({
      code: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
    });
    expect(env.emulator.stats.portal().restRequests).toBe(before);
  });

  it('refuses a non-https client endpoint unless told otherwise', async () => {
    const { Bitrix24ClientFactory } = await import('../../src/bitrix24/client-factory.js');
    const strict = new Bitrix24ClientFactory({ tokens: env.tokens });
    expect(() => strict.forInstallation(env.installation)).toThrow(ParameterError);
  });
});

it('TransientError is what a dead portal looks like', async () => {
  const gone = { ...env.installation, clientEndpoint: 'http://127.0.0.1:9/rest/' };
  const failure = env.factory.forInstallation(gone).app.info();
  await expect(failure).rejects.toBeInstanceOf(TransientError);
  await expect(failure).rejects.toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
});
