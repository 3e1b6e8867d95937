// Installs interrupted before they were stored (the posted tokens unspent, or spent by the
// fallback refresh check), and installations that lost their tokens: all finish or heal on the
// next visit of a portal administrator, never by a non-administrator.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsServices } from '../../src/admin/ops.js';
import { installations } from '../../src/cli/commands/installations.js';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: { portals: [{ memberId: 'c0ffee01' }, { memberId: 'c0ffee02' }, { memberId: 'c0ffee03' }] },
  });
});
afterAll(async () => stack?.close());

describe('an install interrupted before it was stored', () => {
  it('spends nothing, so a reload of the install page finishes it with the posted tokens', async () => {
    // The portal fails the administrator check, after the OAuth server confirmed the token.
    stack.emulator.faults.update({ methods: { 'user.admin': { errorRate: 1, errorStatus: 500 } } });
    const stats = () => stack.emulator.stats.portal('c0ffee03');
    const first = await stack.emulator.installApp('c0ffee03');
    expect(first.status).toBe(503);
    expect(stats().appInfoRequests).toBe(1);
    expect(stats().refreshRequests).toBe(0);
    expect(await stack.app.installations.find('c0ffee03')).toBeNull();
    expect(await stack.testDb.db.pendingInstall.count({ where: { memberId: 'c0ffee03' } })).toBe(0);

    stack.emulator.faults.reset();
    const reload = await resubmit(first.payload);
    expect(reload.status).toBe(200);
    const installation = (await stack.app.installations.find('c0ffee03'))!;
    expect(installation.status).toBe('active');
    // Stored as posted, and it works; the first refresh waits for the token's end.
    const posted = (key: string) => first.payload.body.find(([k]) => k === key)?.[1];
    const stored = await stack.app.installations.getTokens(installation.id);
    expect(stored?.accessToken).toBe(posted('AUTH_ID'));
    expect(stored?.refreshToken).toBe(posted('REFRESH_ID'));
    const info = await stack.app.clients.forInstallation(installation).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
    expect(stats().refreshRequests).toBe(0);
  });
});

describe('an install verified by a refresh and interrupted after the OAuth server answered', () => {
  it('keeps the confirmed grant as pending; a reload of the install page finishes the install', async () => {
    // The portal fails the administrator check, and the posted access token has ended, so the
    // OAuth server's app.info refuses it and the pair is confirmed by a refresh (spent).
    stack.emulator.faults.update({ methods: { 'user.admin': { errorRate: 1, errorStatus: 500 } } });
    const portal = stack.emulator.portal('c0ffee01');
    const tokens = stack.emulator.issueTokens('c0ffee01', portal.adminUserId);
    stack.emulator.expireTokens('c0ffee01');
    const payload = {
      action: `${stack.appUrl}/install?DOMAIN=${portal.domain}&PROTOCOL=0&LANG=en`,
      body: [
        ['AUTH_ID', tokens.access_token],
        ['AUTH_EXPIRES', '3600'],
        ['REFRESH_ID', tokens.refresh_token],
        ['member_id', 'c0ffee01'],
        ['PLACEMENT', 'DEFAULT'],
        ['APPLICATION_TOKEN', 'a1b2c3d4e5'],
      ] as [string, string][],
    };
    const first = { payload, ...(await resubmit(payload)) };
    expect(first.status).toBe(503);
    expect(await stack.app.installations.find('c0ffee01')).toBeNull();
    expect(await stack.testDb.db.pendingInstall.count({ where: { memberId: 'c0ffee01' } })).toBe(1);
    stack.emulator.faults.reset();
    // An install abandoned a week ago: the next completed install drops it.
    await stack.testDb.db.pendingInstall.create({
      data: {
        grantHash: 'abandoned',
        memberId: 'c0ffee99',
        clientEndpoint: 'https://gone.example.com/rest/',
        accessToken: 'sealed-a',
        refreshToken: 'sealed-r',
        expiresAt: new Date(),
        createdAt: new Date(Date.now() - 8 * 86_400_000),
      },
    });
    const refreshesBefore = stack.emulator.stats.portal('c0ffee01').refreshRequests;
    const reload = await resubmit(first.payload);
    expect(reload.status).toBe(200);
    const installation = await stack.app.installations.find('c0ffee01');
    expect(installation?.status).toBe('active');
    expect(installation?.applicationToken).toBe(
      first.payload.body.find(([k]) => k === 'APPLICATION_TOKEN')?.[1] ?? null,
    );
    // Consumed with the install, in the same transaction, with the abandoned one.
    expect(await stack.testDb.db.pendingInstall.count()).toBe(0);
    // The stored pair is the one the OAuth server issued before the interruption, and it works.
    const info = await stack.app.clients.forInstallation(installation!).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
    // The reload's own (spent) token was tried once and refused; nothing else was refreshed.
    expect(stack.emulator.stats.portal('c0ffee01').refreshRequests - refreshesBefore).toBe(1);
  });

  it('a refused administrator check leaves no pending grant behind', async () => {
    const portal = stack.emulator.portal('c0ffee02');
    const tokens = stack.emulator.issueTokens('c0ffee02', 2);
    const res = await resubmit({
      action: `${stack.appUrl}/install?DOMAIN=${portal.domain}&PROTOCOL=0&LANG=en`,
      body: [
        ['AUTH_ID', tokens.access_token],
        ['AUTH_EXPIRES', '3600'],
        ['REFRESH_ID', tokens.refresh_token],
        ['member_id', 'c0ffee02'],
        ['PLACEMENT', 'DEFAULT'],
      ],
    });
    expect(res.status).toBe(403);
    expect(res.body).toContain('install_requires_admin');
    expect(await stack.testDb.db.pendingInstall.count()).toBe(0);
    expect(await stack.app.installations.find('c0ffee02')).toBeNull();
  });
});

describe('an installation that lost its tokens', () => {
  it('heals on the next widget visit of an administrator, not of another user', async () => {
    const member = 'c0ffee01';
    stack.emulator.finishInstall(member);
    const installation = (await stack.app.installations.find(member))!;
    // The stored refresh token is gone for good (spent by a process that died before storing
    // the new pair): the token manager has marked the installation.
    stack.emulator.state.revokeAppTokens(member, stack.emulator.apps[0]!.clientId);
    await stack.app.installations.setStatus(installation.id, 'needs_reinstall', 'refresh: invalid_grant');

    const refreshesBefore = stack.emulator.stats.portal(member).refreshRequests;
    const byUser = await stack.emulator.openPlacement(member, { placement: 'LANDING_SETTINGS', userId: 2 });
    expect(byUser.status).toBe(403);
    expect(byUser.body).toContain('needs_reinstall');
    // The non-administrator's refresh token was not spent.
    expect(stack.emulator.stats.portal(member).refreshRequests).toBe(refreshesBefore);
    expect((await stack.app.installations.find(member))?.healCount).toBe(0);

    const byAdmin = await stack.emulator.openPlacement(member, { placement: 'LANDING_SETTINGS' });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).not.toContain('needs_reinstall');
    const healed = (await stack.app.installations.find(member))!;
    expect(healed).toMatchObject({ status: 'active', healCount: 1, lastError: null });
    expect(healed.healedAt).toBeInstanceOf(Date);
    // Confirmed by the OAuth server's word on the administrator's token: nothing was spent.
    expect(stack.emulator.stats.portal(member).refreshRequests).toBe(refreshesBefore);
    const info = await stack.app.clients.forInstallation(healed).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
    const summary = (await stack.app.installations.summaries()).find((s) => s.memberId === member);
    expect(summary?.healCount).toBe(1);
    // The operator sees it: `cli installations` counts the portals healed this way.
    let printed = '';
    const out = new Writable({
      write: (chunk, _encoding, done) => {
        printed += chunk.toString();
        done();
      },
    });
    await installations.run(
      { ops: opsServices(stack.app), config: stack.config, io: { stdout: out, stderr: out } },
      {},
    );
    expect(printed).toContain("healed by an administrator's visit: 1 of 2 portal(s)");
  });
});
