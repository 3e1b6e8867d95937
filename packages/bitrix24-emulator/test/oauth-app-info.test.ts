// The OAuth server's own app.info (src/emulator/oauth-app-info.ts): who owns an access token,
// asked without spending anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenEmulator, refreshAt, rest } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;
beforeAll(async () => {
  env = await frozenEmulator({
    apps: [
      { clientId: 'local.emulator-app', clientSecret: 'emulator-secret' },
      { clientId: 'local.other-app', clientSecret: 'other-secret' },
    ],
  });
});
afterAll(() => env.emulator.close());

const ask = (form: string) => rest(`${env.emulator.oauthUrl}/rest/`, 'app.info', {}, { form });

describe("the OAuth server's app.info", () => {
  it("names the token's app, its portal's member_id and domain, and the app-info fields", async () => {
    const before = env.emulator.stats.snapshot();
    const r = await ask(`auth=${env.admin.access_token}`);
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({
      client_id: 'local.emulator-app',
      CODE: 'local.emulator-app',
      install: { member_id: env.portal.memberId, domain: env.portal.domain },
    });
    expect(Object.keys(r.body.result.install).sort()).toEqual(['domain', 'member_id']);
    const after = env.emulator.stats.snapshot();
    // Asked, not spent: no refresh, the token still works.
    expect(after.oauth.appInfoRequests - before.oauth.appInfoRequests).toBe(1);
    expect(after.oauth.refreshRequests).toBe(before.oauth.refreshRequests);
    expect((await env.call('user.admin')).body.result).toBe(true);
  });

  it("names another app's token as that app's", async () => {
    const other = env.emulator.issueTokens(env.portal.memberId, env.portal.adminUserId, 'local.other-app');
    const r = await ask(`auth=${other.access_token}`);
    expect(r.body.result.client_id).toBe('local.other-app');
  });

  it('refuses an unknown or missing token (NO_AUTH_FOUND) and an ended one (expired_token), with 401', async () => {
    for (const form of ['auth=not-a-token', '']) {
      const r = await ask(form);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' });
    }
    const ending = env.emulator.issueTokens(env.portal.memberId, env.portal.adminUserId);
    env.clock.advance(3601);
    const r = await ask(`auth=${ending.access_token}`);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('expired_token');
  });

  it('refuses the token a refresh replaced', async () => {
    const pair = env.emulator.issueTokens(env.portal.memberId, env.portal.adminUserId);
    const refreshed = await refreshAt(env.emulator, pair.refresh_token);
    expect(refreshed.status).toBe(200);
    expect((await ask(`auth=${pair.access_token}`)).status).toBe(401);
  });
});
