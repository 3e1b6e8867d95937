// The install-page reload check (issue #18): a reload of the install page re-posts the install's
// refresh token; only the one recorded at the verified install may finish the install again
// without the OAuth server's word. For an installed portal, once the posted access token has
// ended (so the OAuth server no longer vouches for the form), a forged REFRESH_ID must be refused
// with 403 install_not_verified and change nothing: no row, no rebind with the stored tokens.
import { refreshAt } from 'bitrix24-emulator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/db.js';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

const MEMBER = 'c0ffee00';

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

let stack: Stack;
/** The install page the portal posted, with the refresh token the app verified and spent. */
let verified: { action: string; body: [string, string][] };

beforeAll(async () => {
  stack = await startStack({ emulator: { portals: [{ memberId: MEMBER }] } });
  const installed = await stack.emulator.installApp(MEMBER);
  expect(installed.status).toBe(200);
  stack.emulator.finishInstall(MEMBER);
  verified = installed.payload;
});
afterAll(async () => stack?.close());

const withRefreshId = (refreshId: string) => ({
  action: verified.action,
  body: verified.body.map(([k, v]): [string, string] => [k, k === 'REFRESH_ID' ? refreshId : v]),
});
const verifiedRefreshId = () => verified.body.find(([k]) => k === 'REFRESH_ID')![1];
const batches = () => stack.emulator.stats.portal(MEMBER).restByMethod.batch ?? 0;

/** The administrator's own refresh token, spent at the OAuth server: genuine, but not the verified one. */
async function spentAdminToken(): Promise<string> {
  const portal = stack.emulator.portal(MEMBER);
  const tokens = stack.emulator.issueTokens(MEMBER, portal.adminUserId);
  const spent = await refreshAt(stack.emulator, tokens.refresh_token);
  expect(spent.status).toBe(200);
  return tokens.refresh_token;
}

describe('a reload of the install page for an installed portal', () => {
  it('with the verified (spent) refresh token finishes again: 200, no new row', async () => {
    const before = await rows(stack.testDb);
    const res = await resubmit(verified);
    expect(res.status).toBe(200);
    const after = await rows(stack.testDb);
    expect(after.installations.map((i) => [i.memberId, i.status])).toEqual([[MEMBER, 'active']]);
    expect(after.bindings.length).toBe(before.bindings.length);
    // Once the form's access token has ended and the app has rotated the pair (its refresh
    // token spent), only the reload check vouches for the form, and it does.
    stack.emulator.expireTokens(MEMBER);
    const installation = (await stack.app.installations.find(MEMBER))!;
    const stored = (await stack.app.installations.getTokens(installation.id))!;
    await stack.app.clients.forInstallation(installation).app.info(undefined);
    expect((await stack.app.installations.getTokens(installation.id))!.refreshToken).not.toBe(
      stored.refreshToken,
    );
    const late = await resubmit(verified);
    expect(late.status).toBe(200);
    expect((await rows(stack.testDb)).installations.map((i) => [i.memberId, i.status])).toEqual([
      [MEMBER, 'active'],
    ]);
  });

  it.each([
    ['a token the OAuth server never issued', async () => 'f'.repeat(40)],
    [
      'the verified token with its last character changed',
      async () => {
        const token = verifiedRefreshId();
        return `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
      },
    ],
    ['the administrator’s own spent refresh token', spentAdminToken],
  ])('with %s: 403 install_not_verified, nothing stored, nothing rebound', async (_what, forge) => {
    const forged = await forge();
    expect(forged).not.toBe(verifiedRefreshId());
    // The form's access token has ended: only the reload check can accept it now.
    stack.emulator.expireTokens(MEMBER);
    const before = await rows(stack.testDb);
    const placements = stack.emulator.inspect(MEMBER).apps[0]!.placements;
    const batchesBefore = batches();
    const res = await resubmit(withRefreshId(forged));
    expect(res.status).toBe(403);
    expect(/<code>([^<]+)<\/code>/.exec(res.body)?.[1]).toBe('install_not_verified');
    expect(await rows(stack.testDb)).toEqual(before);
    expect(stack.emulator.inspect(MEMBER).apps[0]!.placements).toEqual(placements);
    expect(batches()).toBe(batchesBefore);
  });
});
