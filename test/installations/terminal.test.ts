// Terminal OAuth answers stop the retries (issue #13.4): invalid_grant, invalid_client and
// PAYMENT_REQUIRED move the installation to a state that is never refreshed, recorded with the
// time and code, until a verified install revives it; pages tell payment_required apart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PaymentRequiredError, ReinstallRequiredError } from '../../src/bitrix24/errors.js';
import { appProcess, createTestEnv, expireStoredTokens, type TestEnv } from '../bitrix24/setup.js';
import { buildTestApp } from '../helpers/app.js';

let env: TestEnv;

beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(() => env?.close());

const oauthStats = () => env.emulator.stats.snapshot().oauth;

/** A fetch that answers the OAuth token endpoint with this error, and passes everything else on. */
function oauthAnswering(error: string, status: number) {
  let asked = 0;
  const answering: typeof fetch = async (input, init) => {
    if (String(input).includes('/oauth/token/')) {
      asked += 1;
      return new Response(JSON.stringify({ error, error_description: `${error} (test)` }), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    }
    return fetch(input, init);
  };
  return { fetch: answering, asked: () => asked };
}

/** What a verified reinstall does: a new pair from the portal and status active. */
async function reinstall() {
  const grant = env.emulator.issueTokens();
  await env.store.save(
    {
      memberId: env.installation.memberId,
      domain: env.installation.domain,
      clientEndpoint: env.installation.clientEndpoint,
      status: 'active',
    },
    {
      accessToken: grant.access_token,
      refreshToken: grant.refresh_token,
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  );
}

describe('terminal OAuth answers', () => {
  it('invalid_client marks needs_reinstall with time and code; no refresh is sent again until a reinstall', async () => {
    const wrong = appProcess(env, env.testDb.connect(), {
      owner: 'wrong-secret',
      tokens: {
        oauth: {
          oauthUrl: env.emulator.oauthUrl,
          clientId: env.emulator.apps[0]!.clientId,
          clientSecret: 'not-the-secret',
        },
      },
    });
    await expireStoredTokens(env);
    const before = Date.now();
    const client = wrong.factory.forInstallation(env.installation);
    await expect(client.app.info()).rejects.toMatchObject({ code: 'invalid_client', kind: 'reinstall' });
    const marked = (await env.store.findById(env.installation.id))!;
    expect(marked.status).toBe('needs_reinstall');
    expect(marked.lastError).toMatch(/^invalid_client: /);
    expect(marked.lastErrorAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(oauthStats().refreshRequests).toBe(1);

    // Neither this process nor another (with the right secret) asks the OAuth server again.
    for (let i = 0; i < 3; i++) {
      await expect(client.app.info()).rejects.toBeInstanceOf(ReinstallRequiredError);
      await expect(env.factory.forInstallation(env.installation).app.info()).rejects.toMatchObject({
        code: 'invalid_client',
      });
    }
    expect(oauthStats().requests).toBe(1);
  });

  it('PAYMENT_REQUIRED marks payment_required and throws PaymentRequiredError; a revived installation works in the same process', async () => {
    const paid = oauthAnswering('PAYMENT_REQUIRED', 402);
    const proc = appProcess(env, env.testDb.connect(), { owner: 'unpaid', tokens: { fetch: paid.fetch } });
    await expireStoredTokens(env);
    const client = proc.factory.forInstallation(env.installation);
    const first = client.app.info();
    await expect(first).rejects.toBeInstanceOf(PaymentRequiredError);
    await expect(first).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED', kind: 'reinstall' });
    const marked = (await env.store.findById(env.installation.id))!;
    expect(marked.status).toBe('payment_required');
    expect(marked.lastError).toMatch(/^PAYMENT_REQUIRED: /);
    expect(marked.lastErrorAt).toBeInstanceOf(Date);
    for (let i = 0; i < 3; i++) await expect(client.app.info()).rejects.toBeInstanceOf(PaymentRequiredError);
    expect(paid.asked()).toBe(1);

    // The installer revives it (new pair, status active): nothing in memory blocks it.
    await reinstall();
    await expect(client.app.info()).resolves.toMatchObject({ ID: 1 });
  });

  it('a status-only revival (setStatus active, same stored pair) lets the same process refresh again', async () => {
    env.emulator.revokeApp(); // refresh answers invalid_grant
    await expireStoredTokens(env, false);
    const client = env.factory.forInstallation(env.installation);
    await expect(client.app.info()).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(oauthStats().refreshRequests).toBe(1);
    await expect(client.app.info()).rejects.toBeInstanceOf(ReinstallRequiredError);
    expect(oauthStats().refreshRequests).toBe(1);

    await env.store.setStatus(env.installation.id, 'active', null);
    // Same stored version as when it was refused: the status, not a memory of that version, decides.
    await expect(client.app.info()).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(oauthStats().refreshRequests).toBe(2);
  });

  it('no refresh for an installation whose uninstall was reported', async () => {
    await env.store.setStatus(env.installation.id, 'uninstall_reported', null);
    await expireStoredTokens(env);
    await expect(env.factory.forInstallation(env.installation).app.info()).rejects.toBeInstanceOf(
      ReinstallRequiredError,
    );
    expect(oauthStats().requests).toBe(0);
  });
});

describe('how the app answers', () => {
  it('PaymentRequiredError → 403 payment_required; a lost grant stays 403 needs_reinstall', async () => {
    const { app } = await buildTestApp(env.testDb);
    const init = { status: 0, description: 'test', method: 'oauth/token' };
    app.get('/test/payment', async () => {
      throw new PaymentRequiredError({ ...init, code: 'PAYMENT_REQUIRED' });
    });
    app.get('/test/grant', async () => {
      throw new ReinstallRequiredError({ ...init, code: 'invalid_grant' });
    });
    try {
      const payment = await app.inject({ method: 'GET', url: '/test/payment' });
      expect(payment.statusCode).toBe(403);
      expect(payment.json()).toMatchObject({ error: 'payment_required' });
      const grant = await app.inject({ method: 'GET', url: '/test/grant' });
      expect(grant.statusCode).toBe(403);
      expect(grant.json()).toMatchObject({ error: 'needs_reinstall' });
    } finally {
      await app.close();
    }
  });
});
