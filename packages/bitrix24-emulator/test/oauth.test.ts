import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APP } from '../src/index.js';
import { frozenEmulator } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;

beforeAll(async () => {
  env = await frozenEmulator();
});
afterAll(() => env.emulator.close());

async function refresh(refreshToken: string, opts: { method?: 'GET' | 'POST'; secret?: string } = {}) {
  const q = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: DEFAULT_APP.clientId,
    client_secret: opts.secret ?? DEFAULT_APP.clientSecret,
    refresh_token: refreshToken,
  });
  const res =
    opts.method === 'POST'
      ? await fetch(env.emulator.oauthTokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: q.toString(),
        })
      : await fetch(`${env.emulator.oauthTokenUrl}?${q}`);
  return { status: res.status, body: await res.json() };
}

describe('OAuth token endpoint', () => {
  it('answers a refresh with the exact Bitrix24 field set', async () => {
    const t = env.emulator.issueTokens(env.portal.memberId, 1);
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(
      [
        'access_token',
        'client_endpoint',
        'domain',
        'expires',
        'expires_in',
        'member_id',
        'refresh_token',
        'scope',
        'server_endpoint',
        'status',
        'user_id',
      ].sort(),
    );
    expect(r.body).toMatchObject({
      expires_in: 3600,
      // settings/oauth/index.md: the granted scopes, comma-separated.
      scope: 'landing,placement,user_brief',
      domain: env.emulator.oauthUrl.replace('http://', ''),
      server_endpoint: `${env.emulator.oauthUrl}/rest/`,
      client_endpoint: env.portal.clientEndpoint,
      member_id: env.portal.memberId,
      user_id: 1,
      status: 'L',
    });
    expect(r.body.expires).toBe(Math.floor(env.clock.now() / 1000) + 3600);
    expect(r.body.access_token).not.toBe(t.access_token);
  });

  it('accepts POST form bodies as well as GET', async () => {
    const t = env.emulator.issueTokens();
    const r = await refresh(t.refresh_token, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeTruthy();
  });

  it('makes refresh tokens single-use and kills the access token issued with them', async () => {
    const t = env.emulator.issueTokens();
    expect((await env.call('user.current', {}, t.access_token)).status).toBe(200);
    const first = await refresh(t.refresh_token);
    expect(first.status).toBe(200);
    const second = await refresh(t.refresh_token);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    const old = await env.call('user.current', {}, t.access_token);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('NO_AUTH_FOUND');
    expect((await env.call('user.current', {}, first.body.access_token)).status).toBe(200);
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const t = env.emulator.issueTokens();
    env.emulator.faults.set({ oauth: { latencyMs: 50 } });
    try {
      const [a, b] = await Promise.all([
        refresh(t.refresh_token),
        refresh(t.refresh_token, { method: 'POST' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      expect([a.body.error, b.body.error]).toContain('invalid_grant');
    } finally {
      env.emulator.faults.reset();
    }
  });

  it('counts refreshes and failures per portal', async () => {
    env.emulator.stats.reset();
    const t = env.emulator.issueTokens();
    await refresh(t.refresh_token);
    await refresh(t.refresh_token);
    const s = env.emulator.stats.portal();
    expect(s.refreshRequests).toBe(2);
    expect(s.refreshFailures).toBe(1);
    expect(env.emulator.stats.snapshot().oauth.refreshRequests).toBe(2);
  });

  it('rejects bad client credentials and unknown grants', async () => {
    const t = env.emulator.issueTokens();
    const bad = await refresh(t.refresh_token, { secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    const unknown = await refresh('nope');
    expect(unknown.body.error).toBe('invalid_grant');
    const grant = await fetch(`${env.emulator.oauthTokenUrl}?grant_type=password&client_id=x`);
    expect(grant.status).toBe(400);
    expect((await grant.json()).error).toBe('unsupported_grant_type');
  });

  it('expires access tokens after accessTokenTtl on the emulated clock', async () => {
    const t = env.emulator.issueTokens();
    env.clock.advance(3599);
    expect((await env.call('user.current', {}, t.access_token)).status).toBe(200);
    env.clock.advance(2);
    const r = await env.call('user.current', {}, t.access_token);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({
      error: 'expired_token',
      error_description: 'The access token provided has expired.',
    });
    expect((await refresh(t.refresh_token)).status).toBe(200);
  });

  it('keeps refresh tokens for 180 days, then answers invalid_grant', async () => {
    const day = 24 * 3600;
    const young = env.emulator.issueTokens();
    env.clock.advance(180 * day - 1);
    expect((await refresh(young.refresh_token)).status).toBe(200);
    const t = env.emulator.issueTokens();
    env.clock.advance(180 * day + 1);
    const r = await refresh(t.refresh_token);
    expect(r.body.error).toBe('invalid_grant');
  });

  it('runs the authorization_code grant from /oauth/authorize/', async () => {
    const res = await fetch(
      `${env.portal.baseUrl}/oauth/authorize/?client_id=${DEFAULT_APP.clientId}&state=xyz&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}&user_id=2`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location') ?? '');
    expect(loc.searchParams.get('state')).toBe('xyz');
    expect(loc.searchParams.get('member_id')).toBe(env.portal.memberId);
    const code = loc.searchParams.get('code') ?? '';
    const q = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: DEFAULT_APP.clientId,
      client_secret: DEFAULT_APP.clientSecret,
      code,
    });
    const tok = await (await fetch(`${env.emulator.oauthTokenUrl}?${q}`)).json();
    expect(tok.user_id).toBe(2);
    const again = await (await fetch(`${env.emulator.oauthTokenUrl}?${q}`)).json();
    expect(again.error).toBe('invalid_grant');
    const code2 = env.emulator.issueAuthCode(env.portal.memberId, 1);
    q.set('code', code2);
    expect((await (await fetch(`${env.emulator.oauthTokenUrl}?${q}`)).json()).user_id).toBe(1);
  });

  it('also serves /oauth/token/ on the portal domain', async () => {
    const t = env.emulator.issueTokens();
    const q = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: DEFAULT_APP.clientId,
      client_secret: DEFAULT_APP.clientSecret,
      refresh_token: t.refresh_token,
    });
    const r = await (await fetch(`${env.portal.baseUrl}/oauth/token/?${q}`)).json();
    expect(r.member_id).toBe(env.portal.memberId);
  });
});
