// Install verification by the OAuth server's word on the posted access token (its own app.info):
// only a token of *this* app, of the portal the request names, held by an administrator,
// installs; a refused install spends none of the posted tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

const MEMBER = '1a2b3c4d';
const OTHER_APP = 'local.other-app';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: {
      portals: [{ memberId: MEMBER }],
      apps: [
        { clientId: 'local.emulator-app', clientSecret: 'emulator-secret' },
        { clientId: OTHER_APP, clientSecret: 'other-secret' },
      ],
    },
  });
});
afterAll(async () => stack?.close());

function installPost(tokens: { access_token: string; refresh_token: string }) {
  const portal = stack.emulator.portal(MEMBER);
  return resubmit({
    action: `${stack.appUrl}/install?DOMAIN=${portal.domain}&PROTOCOL=0&LANG=en`,
    body: [
      ['AUTH_ID', tokens.access_token],
      ['AUTH_EXPIRES', '3600'],
      ['REFRESH_ID', tokens.refresh_token],
      ['member_id', MEMBER],
      ['PLACEMENT', 'DEFAULT'],
      ['APPLICATION_TOKEN', 'planted0token'],
    ],
  });
}

describe('install verified by the OAuth server without spending the tokens', () => {
  it("refuses an administrator's genuine tokens of another app, spending and storing nothing", async () => {
    const portal = stack.emulator.portal(MEMBER);
    const other = stack.emulator.issueTokens(MEMBER, portal.adminUserId, OTHER_APP);
    const res = await installPost(other);
    expect(res.status).toBe(403);
    expect(res.body).toContain('install_not_verified');
    expect(await stack.app.installations.find(MEMBER)).toBeNull();
    expect(await stack.testDb.db.pendingInstall.count()).toBe(0);
    expect(stack.emulator.stats.portal(MEMBER).refreshRequests).toBe(0);
  });

  it("refuses a non-administrator's genuine tokens of this app, spending and storing nothing", async () => {
    const user = stack.emulator.issueTokens(MEMBER, 2);
    const res = await installPost(user);
    expect(res.status).toBe(403);
    expect(res.body).toContain('install_requires_admin');
    expect(await stack.app.installations.find(MEMBER)).toBeNull();
    expect(stack.emulator.stats.portal(MEMBER).refreshRequests).toBe(0);
  });

  it("installs with an administrator's tokens of this app, as posted", async () => {
    const portal = stack.emulator.portal(MEMBER);
    const admin = stack.emulator.issueTokens(MEMBER, portal.adminUserId);
    const res = await installPost(admin);
    expect(res.status).toBe(200);
    const installation = (await stack.app.installations.find(MEMBER))!;
    expect(installation).toMatchObject({ status: 'active', clientEndpoint: portal.clientEndpoint });
    expect(await stack.app.installations.getTokens(installation.id)).toMatchObject({
      accessToken: admin.access_token,
      refreshToken: admin.refresh_token,
    });
    expect(stack.emulator.stats.portal(MEMBER).refreshRequests).toBe(0);
  });
});
