// Token lifecycle against the emulator's OAuth server (single-use refresh tokens) and the real
// database: refresh on expiry, single flight in one process and across two, lease takeover,
// invalid_grant → needs_reinstall without hammering the OAuth server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReinstallRequiredError } from '../../src/bitrix24/errors.js';
import { appProcess, createTestEnv, expireStoredTokens, type TestEnv } from './setup.js';

let env: TestEnv;

beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(() => env?.close());

const oauthStats = () => env.emulator.stats.snapshot().oauth;
const portalStats = () => env.emulator.stats.portal();

describe('one process', () => {
  it('refreshes once when the portal expires the token mid-flight, and retries the call', async () => {
    const client = env.factory.forInstallation(env.installation);
    await client.app.info();
    const before = await env.store.getTokens(env.installation.id);
    env.emulator.expireAccessToken(before!.accessToken);

    await expect(client.user.current()).resolves.toMatchObject({ ID: 1 });
    expect(oauthStats().refreshRequests).toBe(1);
    expect(portalStats().restByMethod['user.current']).toBe(2); // expired_token, then the retry
    const after = await env.store.getTokens(env.installation.id);
    expect(after!.version).toBe(before!.version + 1);
    expect(after!.accessToken).not.toBe(before!.accessToken);
    expect(after!.leaseOwner).toBeNull();
  });

  it('refreshes before expiry, without a rejected request', async () => {
    const stored = await env.store.getTokens(env.installation.id);
    // 30 s left: inside the 60 s skew.
    await env.store.replaceTokens(env.installation.id, stored!.version, {
      ...stored!,
      expiresAt: new Date(Date.now() + 30_000),
    });
    const client = env.factory.forInstallation(env.installation);
    await client.app.info();
    expect(oauthStats().refreshRequests).toBe(1);
    expect(portalStats().restRequests).toBe(1);
  });

  it('makes exactly one refresh request for 100 concurrent calls on an expired token', async () => {
    await expireStoredTokens(env);
    const client = env.factory.forInstallation(env.installation);
    const results = await Promise.all(Array.from({ length: 100 }, () => client.app.info()));
    expect(results.every((r) => r.CODE === env.emulator.apps[0]!.clientId)).toBe(true);
    expect(oauthStats().refreshRequests).toBe(1);
    expect(portalStats().refreshRequests).toBe(1);
    expect(env.tokens.stats.refreshRequests).toBe(1);
    expect(portalStats().responses503).toBe(0);
  });

  it('also makes one refresh when 100 calls in flight all get expired_token', async () => {
    const client = env.factory.forInstallation(env.installation);
    await client.app.info();
    env.emulator.expireTokens(); // the app still believes its token is good
    const results = await Promise.all(Array.from({ length: 100 }, () => client.user.current()));
    expect(results.every((u) => u.ID === 1)).toBe(true);
    expect(oauthStats().refreshRequests).toBe(1);
  });
});

describe('two processes sharing the database', () => {
  it('race on one expired token: one refresh, both succeed', async () => {
    const other = appProcess(env, env.testDb.connect(), { owner: 'process-b' });
    const clientA = env.factory.forInstallation(env.installation);
    const clientB = other.factory.forInstallation(env.installation);
    await Promise.all([clientA.app.info(), clientB.app.info()]); // both cache the current token
    await expireStoredTokens(env);

    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? clientA : clientB).user.current());
    const results = await Promise.all(calls);
    expect(results.every((u) => u.ID === 1)).toBe(true);
    expect(oauthStats().refreshRequests).toBe(1);
    expect(oauthStats().refreshFailures).toBe(0);
    expect(env.tokens.stats.refreshRequests + other.tokens.stats.refreshRequests).toBe(1);
    const stored = await other.store.getTokens(env.installation.id);
    expect(stored!.leaseOwner).toBeNull();
  });

  it('race when the portal rejects both cached tokens mid-flight', async () => {
    const other = appProcess(env, env.testDb.connect(), { owner: 'process-b' });
    const clientA = env.factory.forInstallation(env.installation);
    const clientB = other.factory.forInstallation(env.installation);
    await Promise.all([clientA.app.info(), clientB.app.info()]);
    env.emulator.expireTokens();

    const [userA, userB, info] = await Promise.all([
      clientA.user.current(),
      clientB.user.current(),
      clientB.app.info(),
    ]);
    expect([userA.ID, userB.ID, info.CODE]).toEqual([1, 1, env.emulator.apps[0]!.clientId]);
    expect(oauthStats().refreshRequests).toBe(1);
    // The loser then meets a revoked token or the winner's: either way, no second refresh.
    await Promise.all([clientA.app.info(), clientB.app.info()]);
    expect(oauthStats().refreshRequests).toBe(1);
  });

  it('takes over the lease of a process that crashed while refreshing', async () => {
    await expireStoredTokens(env);
    const stored = await env.store.getTokens(env.installation.id);
    // A "crashed" process took the lease and will never write.
    const crashed = await env.store.acquireRefreshLease(
      env.installation.id,
      stored!.version,
      'crashed-process',
      new Date(Date.now() + 700),
    );
    expect(crashed).toBe(true);
    const started = Date.now();
    await expect(env.factory.forInstallation(env.installation).app.info()).resolves.toMatchObject({ ID: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(oauthStats().refreshRequests).toBe(1);
    expect(env.tokens.stats.waitedForOtherProcess).toBe(1);
  });
});

describe('invalid_grant', () => {
  it('marks the installation needs_reinstall, logs once, and stops asking the OAuth server', async () => {
    env.emulator.revokeApp(); // refresh now answers invalid_grant
    await expireStoredTokens(env, false);
    const client = env.factory.forInstallation(env.installation);

    const first = client.app.info();
    await expect(first).rejects.toBeInstanceOf(ReinstallRequiredError);
    await expect(first).rejects.toMatchObject({ code: 'invalid_grant', kind: 'reinstall' });
    const installation = await env.store.findById(env.installation.id);
    expect(installation!.status).toBe('needs_reinstall');
    expect(installation!.lastError).toMatch(/invalid_grant/);
    expect(oauthStats().refreshRequests).toBe(1);

    // Later calls, here and in another process, fail fast.
    const other = appProcess(env, env.testDb.connect(), { owner: 'process-b' });
    for (let i = 0; i < 5; i++) {
      await expect(client.app.info()).rejects.toBeInstanceOf(ReinstallRequiredError);
      await expect(other.factory.forInstallation(env.installation).app.info()).rejects.toBeInstanceOf(
        ReinstallRequiredError,
      );
    }
    expect(oauthStats().requests).toBe(1);
    const lines = env.logs.lines.filter((l) => l.includes('needs_reinstall'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 50,
      installationId: env.installation.id,
      code: 'invalid_grant',
    });

    // A reinstall saves a new pair (status active): calls work again.
    const portal = env.emulator.state.portal(env.installation.memberId);
    env.emulator.state.installation(portal, env.emulator.apps[0]!.clientId).installed = true;
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
    await expect(client.app.info()).resolves.toMatchObject({ ID: 1 });
  });
});

it('never logs tokens or the client secret', async () => {
  env.emulator.faults.failNext(1, { status: 503, target: 'app.info' });
  const client = env.factory.forInstallation(env.installation);
  await client.app.info();
  await expireStoredTokens(env);
  await client.app.info();
  env.emulator.revokeApp();
  await expireStoredTokens(env, false);
  await expect(client.app.info()).rejects.toBeInstanceOf(ReinstallRequiredError);

  const stored = await env.store.getTokens(env.installation.id);
  const text = env.logs.text();
  expect(env.logs.lines.length).toBeGreaterThan(1);
  for (const secret of [...env.secrets, stored!.accessToken, stored!.refreshToken])
    expect(text).not.toContain(secret);
});
