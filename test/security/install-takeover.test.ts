// The takeover and data-wipe paths of issue #13, each played against the real app and the
// emulated portal, comparing every stored row before and after. A portal user who is not an
// administrator holds genuine tokens of their own (every widget POST hands them out): none of
// them may install, plant an application token, or get a portal's data deleted.
import { refreshAt } from 'bitrix24-emulator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/db.js';
import { type Stack, startStack } from '../helpers/stack.js';

const MEMBER = 'd00d1e55';
const ATTACKER_APP_TOKEN = 'a77ac4e2a77ac4e2a77ac4e2a77ac4e2';
const NON_ADMIN = 2;

/** Every row of every table, in a stable order: what "nothing changed" is compared on. */
async function rows(testDb: TestDatabase) {
  const db = testDb.db;
  return {
    installations: await db.installation.findMany({ orderBy: { id: 'asc' } }),
    tokens: await db.oAuthToken.findMany({ orderBy: { installationId: 'asc' } }),
    bindings: await db.binding.findMany({ orderBy: { id: 'asc' } }),
    options: await db.appOption.findMany({ orderBy: [{ installationId: 'asc' }, { key: 'asc' }] }),
    pending: await db.pendingInstall.findMany({ orderBy: { grantHash: 'asc' } }),
  };
}

async function post(url: string, body: URLSearchParams | string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  return { status: res.status, text: await res.text() };
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ emulator: { portals: [{ memberId: MEMBER }] } });
  const installed = await stack.emulator.installApp(MEMBER);
  expect(installed.status).toBe(200);
  // What the install page's installFinish() does in the browser: the widgets become visible.
  stack.emulator.finishInstall(MEMBER);
  const installation = (await stack.app.installations.find(MEMBER))!;
  await stack.app.installations.setOptions(installation.id, { offeredTypes: 'catalog,cart' });
});
afterAll(async () => stack?.close());

/** A non-administrator's own, genuine, unspent tokens, as a widget POST hands them out. */
function userTokens() {
  return stack.emulator.issueTokens(MEMBER, NON_ADMIN);
}

/** The install POST Bitrix24 sends, with a non-administrator's tokens and a token of the attacker's. */
function replayedInstall(): URLSearchParams {
  const portal = stack.emulator.portal(MEMBER);
  const tokens = userTokens();
  return new URLSearchParams({
    AUTH_ID: tokens.access_token,
    AUTH_EXPIRES: '3600',
    REFRESH_ID: tokens.refresh_token,
    member_id: MEMBER,
    status: 'L',
    PLACEMENT: 'DEFAULT',
    PLACEMENT_OPTIONS: '{"any":"1"}',
    SERVER_ENDPOINT: stack.emulator.serverEndpoint,
    APPLICATION_TOKEN: ATTACKER_APP_TOKEN,
    APPLICATION_SCOPE: 'landing',
    DOMAIN: portal.domain,
    PROTOCOL: '0',
    LANG: 'en',
  });
}

function forgedUninstall(applicationToken = ATTACKER_APP_TOKEN): string {
  const portal = stack.emulator.portal(MEMBER);
  return new URLSearchParams({
    event: 'ONAPPUNINSTALL',
    'data[CLEAN]': '1',
    'auth[domain]': portal.domain,
    'auth[member_id]': MEMBER,
    'auth[application_token]': applicationToken,
  }).toString();
}

async function expectForgedUninstallRefused() {
  const before = await rows(stack.testDb);
  const res = await post(`${stack.appUrl}/events`, forgedUninstall());
  expect(res.status).toBe(401);
  expect(JSON.parse(res.text).error).toBe('invalid_application_token');
  expect(await rows(stack.testDb)).toEqual(before);
}

describe('a portal user who is not an administrator', () => {
  it('cannot replay their own tokens to /install: 403 install_requires_admin, nothing stored', async () => {
    const before = await rows(stack.testDb);
    const placements = stack.emulator.inspect(MEMBER).apps[0]!.placements;
    const res = await post(`${stack.appUrl}/install`, replayedInstall());
    expect(res.status).toBe(403);
    expect(res.text).toContain('install_requires_admin');
    expect(await rows(stack.testDb)).toEqual(before);
    // Nothing was rebound on the portal either.
    expect(stack.emulator.inspect(MEMBER).apps[0]!.placements).toEqual(placements);
    expect(stack.logs.text).toContain('install refused: not a portal administrator');
    await expectForgedUninstallRefused();
  });

  it('cannot install through a forged ONAPPINSTALL with their tokens: 403, nothing stored', async () => {
    const before = await rows(stack.testDb);
    const portal = stack.emulator.portal(MEMBER);
    const tokens = userTokens();
    const res = await post(
      `${stack.appUrl}/events`,
      new URLSearchParams({
        event: 'ONAPPINSTALL',
        'data[VERSION]': '1',
        'data[LANGUAGE_ID]': 'en',
        'auth[access_token]': tokens.access_token,
        'auth[refresh_token]': tokens.refresh_token,
        'auth[expires_in]': '3600',
        'auth[domain]': portal.domain,
        'auth[server_endpoint]': stack.emulator.serverEndpoint,
        'auth[client_endpoint]': portal.clientEndpoint,
        'auth[member_id]': MEMBER,
        'auth[user_id]': String(NON_ADMIN),
        'auth[application_token]': ATTACKER_APP_TOKEN,
      }),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'install_requires_admin' });
    expect(await rows(stack.testDb)).toEqual(before);
    await expectForgedUninstallRefused();
  });

  it('cannot plant an application token through a widget POST', async () => {
    const opened = await stack.emulator.openPlacement(MEMBER, {
      placement: 'LANDING_SETTINGS',
      userId: NON_ADMIN,
    });
    expect(opened.status).toBe(200);
    const before = await rows(stack.testDb);
    const planted = opened.payload.body.map(([k, v]): [string, string] =>
      k === 'APPLICATION_TOKEN' ? [k, ATTACKER_APP_TOKEN] : [k, v],
    );
    if (!planted.some(([k]) => k === 'APPLICATION_TOKEN'))
      planted.push(['APPLICATION_TOKEN', ATTACKER_APP_TOKEN]);
    const res = await post(opened.payload.action, new URLSearchParams(planted));
    expect(res.status).toBe(200);
    expect(await rows(stack.testDb)).toEqual(before);
    const stored = await stack.app.installations.find(MEMBER);
    expect(stored?.applicationToken).not.toBe(ATTACKER_APP_TOKEN);
    await expectForgedUninstallRefused();
  });

  it('cannot make a reload of the install page rebind with a refresh token that is not the verified one', async () => {
    // A spent refresh token of their own: the OAuth server refuses it, as it refuses the
    // administrator's spent one on a genuine reload; only the recorded one may pass.
    const spent = userTokens();
    const refreshed = await refreshAt(stack.emulator, spent.refresh_token);
    expect(refreshed.status).toBe(200);
    const form = replayedInstall();
    form.set('AUTH_ID', spent.access_token);
    form.set('REFRESH_ID', spent.refresh_token);
    form.delete('APPLICATION_TOKEN');
    const batchesBefore = stack.emulator.stats.portal(MEMBER).restByMethod.batch ?? 0;
    const before = await rows(stack.testDb);
    const res = await post(`${stack.appUrl}/install`, form);
    expect(res.status).toBe(403);
    expect(res.text).toContain('install_not_verified');
    expect(await rows(stack.testDb)).toEqual(before);
    expect(stack.emulator.stats.portal(MEMBER).restByMethod.batch ?? 0).toBe(batchesBefore);
  });
});

describe('uninstall claims that cannot be proven', () => {
  it('with no stored application token and a refresh token that merely aged out: kept whole, marked uninstall_reported', async () => {
    const installation = (await stack.app.installations.find(MEMBER))!;
    await stack.testDb.db.installation.update({
      where: { id: installation.id },
      data: { applicationToken: null },
    });
    // Our tokens stop working while the app stays installed on the portal (a refresh token
    // unused for 180 days dies: OAuth answers invalid_grant, as for an uninstalled app).
    stack.emulator.state.revokeAppTokens(MEMBER, stack.emulator.apps[0]!.clientId);
    expect(stack.emulator.inspect(MEMBER).apps[0]!.installed).toBe(true);
    await stack.testDb.db.oAuthToken.update({
      where: { installationId: installation.id },
      data: { expiresAt: new Date(stack.emulator.clock.now() - 1000) },
    });
    const before = await rows(stack.testDb);
    const res = await post(`${stack.appUrl}/events`, forgedUninstall());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ result: 'uninstall_reported' });
    const after = await rows(stack.testDb);
    // Every token, binding and option is still there; only the status says what was reported.
    expect(after.tokens.map(({ version, ...t }) => ({ ...t, updatedAt: null }))).toEqual(
      before.tokens.map(({ version, ...t }) => ({ ...t, updatedAt: null })),
    );
    expect(after.bindings).toEqual(before.bindings);
    expect(after.options).toEqual(before.options);
    expect(after.installations).toHaveLength(1);
    expect(after.installations[0]).toMatchObject({ status: 'uninstall_reported', memberId: MEMBER });
    expect(stack.logs.text).toContain('uninstall reported but unprovable: nothing deleted');

    // Widgets stop using it and say why.
    const opened = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
    expect(opened.status).toBe(403);
    expect(opened.body).toContain('uninstall_reported');

    // A verified administrator's install revives it, with the application token it carries.
    const reinstalled = await stack.emulator.installApp(MEMBER);
    expect(reinstalled.status).toBe(200);
    const revived = await stack.app.installations.find(MEMBER);
    expect(revived?.status).toBe('active');
    expect(revived?.applicationToken).not.toBeNull();
    expect(revived?.applicationToken).not.toBe(ATTACKER_APP_TOKEN);
  });
});
