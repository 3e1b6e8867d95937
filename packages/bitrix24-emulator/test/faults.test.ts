import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APP, startEmulator } from '../src/index.js';
import { frozenEmulator, rest } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;

beforeAll(async () => {
  env = await frozenEmulator();
});
afterEach(() => env.emulator.faults.reset());
afterAll(() => env.emulator.close());

describe('fault injection', () => {
  it('adds latency', async () => {
    env.emulator.faults.set({ latencyMs: 150 });
    const t0 = performance.now();
    expect((await env.call('user.current')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('answers a share of requests with 500/503, optionally per method', async () => {
    env.emulator.faults.set({ methods: { 'app.info': { errorRate: 1, errorStatus: 500 } } });
    const r = await env.call('app.info');
    expect(r.status).toBe(500);
    expect(r.body.error).toBe('INTERNAL_SERVER_ERROR');
    expect((await env.call('user.current')).status).toBe(200);
    env.emulator.faults.set({ errorRate: 1, errorStatus: 503 });
    const s = await env.call('user.current');
    expect(s.status).toBe(503);
    expect(env.emulator.stats.portal().injectedErrors).toBe(2);
  });

  it('uses the configured random source for partial rates', async () => {
    let i = 0;
    const seq = [0.1, 0.9, 0.1, 0.9];
    env.emulator.faults.set({ errorRate: 0.5, errorStatus: 503, random: () => seq[i++ % seq.length] ?? 1 });
    const statuses = [];
    for (let k = 0; k < 4; k++) statuses.push((await env.call('user.current')).status);
    expect(statuses).toEqual([503, 200, 503, 200]);
  });

  it('fails the next N requests on demand', async () => {
    env.emulator.faults.failNext(2, { status: 503, target: 'user.current' });
    expect((await env.call('app.info')).status).toBe(200);
    expect((await env.call('user.current')).status).toBe(503);
    expect((await env.call('user.current')).status).toBe(503);
    expect((await env.call('user.current')).status).toBe(200);
  });

  it('drops connections', async () => {
    env.emulator.faults.dropNext(1);
    await expect(env.call('user.current')).rejects.toThrow();
    expect(env.emulator.stats.portal().droppedConnections).toBe(1);
    env.emulator.faults.set({ dropRate: 1 });
    await expect(env.call('user.current')).rejects.toThrow();
    env.emulator.faults.reset();
    expect((await env.call('user.current')).status).toBe(200);
  });

  it('can fail or drop the OAuth token endpoint', async () => {
    const t = env.emulator.issueTokens();
    const url = `${env.emulator.oauthTokenUrl}?grant_type=refresh_token&client_id=${DEFAULT_APP.clientId}&client_secret=${DEFAULT_APP.clientSecret}&refresh_token=${t.refresh_token}`;
    env.emulator.faults.failNext(1, { target: 'oauth', status: 503 });
    expect((await fetch(url)).status).toBe(503);
    env.emulator.faults.dropNext(1, { target: 'oauth' });
    await expect(fetch(url)).rejects.toThrow();
    // Neither attempt consumed the refresh token.
    expect((await fetch(url)).status).toBe(200);
  });

  it('expires one access token, or all of a portal, on demand', async () => {
    const a = env.emulator.issueTokens();
    const b = env.emulator.issueTokens();
    env.emulator.expireAccessToken(a.access_token);
    expect((await env.call('user.current', {}, a.access_token)).body.error).toBe('expired_token');
    expect((await env.call('user.current', {}, b.access_token)).status).toBe(200);
    env.emulator.expireTokens();
    expect((await env.call('user.current', {}, b.access_token)).status).toBe(401);
  });
});

describe('revoked app', () => {
  it('stops tokens and refuses refresh with invalid_grant', async () => {
    const e = await startEmulator();
    try {
      const t = e.issueTokens();
      const ep = e.portal().clientEndpoint;
      expect((await rest(ep, 'user.current', { auth: t.access_token })).status).toBe(200);
      e.revokeApp();
      const r = await rest(ep, 'user.current', { auth: t.access_token });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('NO_AUTH_FOUND');
      const q = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: DEFAULT_APP.clientId,
        client_secret: DEFAULT_APP.clientSecret,
        refresh_token: t.refresh_token,
      });
      const ref = await fetch(`${e.oauthTokenUrl}?${q}`);
      expect(ref.status).toBe(400);
      expect((await ref.json()).error).toBe('invalid_grant');
      expect(() => e.issueTokens()).toThrow(/not installed/);
    } finally {
      await e.close();
    }
  });
});
