// Install, reinstall, failure and retry, ONAPPINSTALL and uninstall: the emulated portal
// drives our app over real HTTP, and we check what the portal ends up with.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthServers } from '../../src/bitrix24/oauth-servers.js';
import { Installer } from '../../src/installations/installer.js';
import { appManifest, PLACEMENT_MODULES } from '../../src/placements/registry.js';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { B24_BLOCK_CODES: '43.4.cover_with_price_text_button_bgimg' } });
});
afterAll(async () => stack?.close());

const placementsOf = (stack: Stack, memberId?: string) =>
  stack.emulator
    .inspect(memberId)
    .apps.flatMap((a) => a.placements)
    .map((p) => ({ placement: p.placement, handler: p.handler, title: p.title }))
    .sort((a, b) => a.placement.localeCompare(b.placement));

const eventsOf = (stack: Stack, memberId?: string) =>
  stack.emulator
    .inspect(memberId)
    .apps.flatMap((a) => a.events.map((e) => ({ event: e.event, handler: e.handler })));

describe('install through the portal', () => {
  it('binds every placement and ONAPPUNINSTALL, stores the installation, and renders the install page', async () => {
    const portal = stack.emulator.portal();
    const before = stack.emulator.stats.portal(portal.memberId);
    const res = await stack.emulator.installApp(portal.memberId, { lang: 'de' });
    expect(res.status).toBe(200);
    const after = stack.emulator.stats.portal(portal.memberId);
    // All bindings went through one batch request.
    expect((after.restByMethod.batch ?? 0) - (before.restByMethod.batch ?? 0)).toBe(1);
    expect(after.restByMethod['landing.repo.bind'] ?? 0).toBe(0);
    // The OAuth server confirmed the install tokens (its own app.info) without spending them.
    expect(after.appInfoRequests - before.appInfoRequests).toBe(1);
    expect(after.refreshRequests - before.refreshRequests).toBe(0);
    // The real query/body split reached us: DOMAIN in the query, tokens in the body.
    expect(res.url).toContain(`DOMAIN=${encodeURIComponent(portal.domain)}`);
    expect(res.body).toContain('/static/js/install.js');
    expect(res.body).toContain('LANDING_SETTINGS');
    expect(res.headers['content-security-policy']).toContain(`frame-ancestors http://${portal.domain}`);

    expect(placementsOf(stack)).toEqual([
      { placement: 'LANDING_BLOCK_*', handler: `${stack.appUrl}/placements/block`, title: 'Block-Werkzeuge' },
      {
        placement: 'LANDING_BLOCK_43.4.COVER_WITH_PRICE_TEXT_BUTTON_BGIMG',
        handler: `${stack.appUrl}/placements/block`,
        title: 'Block-Werkzeuge',
      },
      {
        placement: 'LANDING_SETTINGS',
        handler: `${stack.appUrl}/placements/settings`,
        title: 'Sonderseiten und Website-Werkzeuge',
      },
    ]);
    expect(eventsOf(stack)).toEqual([{ event: 'ONAPPUNINSTALL', handler: `${stack.appUrl}/events` }]);

    const stored = await stack.app.installations.find(portal.memberId);
    expect(stored).toMatchObject({
      status: 'active',
      domain: portal.domain,
      clientEndpoint: portal.clientEndpoint,
      lang: 'de',
    });
    expect(await stack.app.installations.listBindings(stored!.id)).toHaveLength(4);
    const tokens = await stack.app.installations.getTokens(stored!.id);
    // The pair we hold (the refreshed one) works.
    const info = await stack.app.clients.forInstallation(stored!).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
    // Not finished until the install page calls installFinish() in the browser (browser test).
    expect(info.INSTALLED).toBe(false);
    expect(tokens?.accessToken).toBeTruthy();
  });

  it('a reinstall gives the same bindings, never duplicates', async () => {
    const portal = stack.emulator.portal();
    const before = placementsOf(stack);
    const res = await stack.emulator.installApp(portal.memberId, { lang: 'de' });
    expect(res.status).toBe(200);
    expect(placementsOf(stack)).toEqual(before);
    expect(eventsOf(stack)).toHaveLength(1);
  });

  it('a reinstall after PUBLIC_URL changed replaces the handlers', async () => {
    const portal = stack.emulator.portal();
    const installation = (await stack.app.installations.find(portal.memberId))!;
    const moved = new Installer({
      store: stack.app.installations,
      oauth: {
        refresh: () => Promise.reject(new Error('a rebind spends no install token')),
        inspect: () => Promise.reject(new Error('a rebind inspects no install token')),
      },
      admin: { isAdmin: () => Promise.reject(new Error('a rebind checks no installer')) },
      servers: new OAuthServers([], 'https://oauth.bitrix.info'),
      clientFor: (i) => stack.app.clients.forInstallation(i).rest,
      clientWith: (target, accessToken) => stack.app.clients.forUser(target, accessToken).rest,
      config: { publicUrl: 'https://moved.example.com', bitrix24: { allowHttp: true, clientId: 'unused' } },
      manifest: appManifest(PLACEMENT_MODULES, []),
      log: pino({ level: 'silent' }),
    });
    // The developer moved the app card to the new host too (Bitrix24 refuses handlers elsewhere).
    stack.emulator.setAppUrl('https://moved.example.com');
    const report = await moved.bind(installation, 'en');
    stack.emulator.setAppUrl(stack.appUrl);
    expect(report.failed).toEqual([]);
    expect(placementsOf(stack).map((p) => p.handler)).toEqual([
      'https://moved.example.com/placements/block',
      'https://moved.example.com/placements/settings',
    ]);
    expect(eventsOf(stack)).toEqual([
      { event: 'ONAPPUNINSTALL', handler: 'https://moved.example.com/events' },
    ]);
    // And back, through the real install page.
    await stack.emulator.installApp(portal.memberId, { lang: 'de' });
    expect(placementsOf(stack)).toHaveLength(3);
    expect(placementsOf(stack).every((p) => p.handler.startsWith(stack.appUrl))).toBe(true);
  });
});

describe('install failures', () => {
  let failing: Stack;
  beforeAll(async () => {
    failing = await startStack({
      emulator: { portals: [{ memberId: 'f00dfeed' }, { memberId: 'beefcafe' }] },
    });
  });
  afterAll(async () => failing?.close());

  it('a portal failing during binding gets an error page; reloading it finishes with no duplicates', async () => {
    failing.emulator.faults.update({ methods: { batch: { errorRate: 1, errorStatus: 500 } } });
    const first = await failing.emulator.installApp('f00dfeed');
    expect(first.status).toBe(503);
    expect(first.body).toContain('portal_unavailable');
    expect(first.body).toContain('Reload this page');
    const stored = await failing.app.installations.find('f00dfeed');
    expect(stored?.status).toBe('new');
    expect(stored?.lastError).toBeNull();

    failing.emulator.faults.reset();
    // The reload carries the same, already spent, refresh token: recognised, not refused.
    const retry = await resubmit(first.payload);
    expect(retry.status).toBe(200);
    expect(placementsOf(failing, 'f00dfeed')).toHaveLength(2);
    expect(eventsOf(failing, 'f00dfeed')).toHaveLength(1);
    expect((await failing.app.installations.find('f00dfeed'))?.status).toBe('active');
    // Once more: still no duplicates.
    expect((await resubmit(first.payload)).status).toBe(200);
    expect(placementsOf(failing, 'f00dfeed')).toHaveLength(2);
  });

  it('refuses forged install tokens and a member_id/domain that does not match them, storing nothing', async () => {
    const genuine = await failing.emulator.installApp('beefcafe');
    // Forged tokens: the OAuth server knows neither the access token nor the refresh token.
    const forged = genuine.payload.body.map(([k, v]): [string, string] =>
      k === 'REFRESH_ID' || k === 'AUTH_ID' ? [k, 'ffffffffffffffffffffffffffffffffffffffff'] : [k, v],
    );
    await failing.testDb.db.installation.deleteMany({ where: { memberId: 'beefcafe' } });
    const res = await resubmit({ action: genuine.payload.action, body: forged });
    expect(res.status).toBe(403);
    expect(res.body).toContain('install_not_verified');
    expect(await failing.app.installations.find('beefcafe')).toBeNull();

    // Genuine, unspent tokens of portal beefcafe presented as portal f00dfeed.
    const portal = failing.emulator.portal('beefcafe');
    const unspent = failing.emulator.issueTokens('beefcafe', portal.adminUserId);
    const replace: Record<string, string> = {
      member_id: 'f00dfeed',
      AUTH_ID: unspent.access_token,
      REFRESH_ID: unspent.refresh_token,
    };
    const crossed = genuine.payload.body.map(([k, v]): [string, string] => [k, replace[k] ?? v]);
    const before = await failing.app.installations.find('f00dfeed');
    const mismatch = await resubmit({ action: genuine.payload.action, body: crossed });
    expect(mismatch.status).toBe(403);
    expect(mismatch.body).toContain('portal_mismatch');
    expect(await failing.app.installations.find('f00dfeed')).toEqual(before);
  });

  it('answers a missing field with 400 naming it, and stores nothing', async () => {
    const res = await fetch(`${failing.appUrl}/install?DOMAIN=x.bitrix24.com&PROTOCOL=1&LANG=ru`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'AUTH_ID=abcdefgh12345678&AUTH_EXPIRES=3600&PLACEMENT=DEFAULT',
    });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(body).toContain('lang="ru"');
    expect(body).toContain('REFRESH_ID is missing');
    expect(body).toContain('member_id is missing');
    expect(await failing.testDb.db.installation.count({ where: { domain: 'x.bitrix24.com' } })).toBe(0);
  });
});

describe('event-based install and uninstall', () => {
  let events: Stack;
  beforeAll(async () => {
    events = await startStack({ emulator: { portals: [{ memberId: 'e1e1e1e1' }] } });
  });
  afterAll(async () => events?.close());

  it('ONAPPINSTALL stores the installation with its application_token and binds', async () => {
    const res = await events.emulator.sendOnAppInstall('e1e1e1e1', `${events.appUrl}/events`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ result: 'installed', status: 'active' });
    const stored = await events.app.installations.find('e1e1e1e1');
    expect(stored?.applicationToken).toMatch(/^[0-9a-f]+$/);
    expect(placementsOf(events, 'e1e1e1e1')).toHaveLength(2);
    expect(eventsOf(events, 'e1e1e1e1')).toEqual([
      { event: 'ONAPPUNINSTALL', handler: `${events.appUrl}/events` },
    ]);
  });

  it('uninstall from the portal (CLEAN=0) deletes tokens and keeps the row', async () => {
    const [res] = await events.emulator.uninstallApp('e1e1e1e1', { clean: false });
    expect(res?.status).toBe(200);
    const stored = await events.app.installations.find('e1e1e1e1');
    expect(stored?.status).toBe('uninstalled');
    expect(await events.app.installations.getTokens(stored!.id)).toBeNull();
  });

  it('uninstall with CLEAN=1 and no application_token stored deletes nothing: uninstall_reported until purged', async () => {
    await events.emulator.installApp('e1e1e1e1');
    const before = await events.app.installations.find('e1e1e1e1');
    expect(before?.status).toBe('active');
    await events.testDb.db.installation.update({
      where: { id: before!.id },
      data: { applicationToken: null },
    });
    // A forged uninstall while the app still works on the portal: refused.
    const forged = await fetch(`${events.appUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `event=ONAPPUNINSTALL&data[CLEAN]=1&auth[domain]=${before!.domain}&auth[member_id]=e1e1e1e1&auth[application_token]=0123abcd`,
    });
    expect(forged.status).toBe(401);
    expect((await events.app.installations.find('e1e1e1e1'))?.status).toBe('active');
    // The real one: the portal revokes the app and our tokens stop working, but without a
    // stored application token that cannot be told from tokens that merely aged out.
    const [res] = await events.emulator.uninstallApp('e1e1e1e1', { clean: true });
    expect(res?.status).toBe(200);
    const reported = await events.app.installations.find('e1e1e1e1');
    expect(reported?.status).toBe('uninstall_reported');
    expect(await events.app.installations.getTokens(reported!.id)).not.toBeNull();
    expect(await events.app.installations.listBindings(reported!.id)).not.toHaveLength(0);
  });
});
