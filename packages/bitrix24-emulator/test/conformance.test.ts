// Rules of src/emulator/CONFORMANCE.md that came from reading Bitrix24's docs against the
// emulator: handler URL hosts, syspage.set with a missing page, markDelete's `mark`, the app's
// own page after installFinish, and what a non-admin (user 2) may do.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { frozenEmulator, rest } from '../src/testing.js';

describe('handler URL rules (against the app URL given with --app)', () => {
  let env: Awaited<ReturnType<typeof frozenEmulator>>;
  beforeAll(async () => {
    env = await frozenEmulator({ appUrl: 'https://app.example.com' });
  });
  afterAll(() => env.emulator.close());

  const bind = (handler: string) =>
    env.call('landing.repo.bind', { fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: handler } });
  const placements = () => env.emulator.inspect().apps[0]?.placements ?? [];
  const events = () => env.emulator.inspect().apps[0]?.events ?? [];

  it('landing.repo.bind refuses a host without a dot and a host other than the app host', async () => {
    const local = await bind('http://localhost:3000/placements/settings');
    expect(local.status).toBe(400);
    expect(local.body).toEqual({
      error: 'PLACEMENT_HANDLER_INVALID',
      error_description: 'Invalid embedding location handler address',
    });
    const other = await bind('https://evil.example.org/placements/settings');
    expect(other.status).toBe(400);
    expect(other.body).toEqual({
      error: 'PLACEMENT_HANDLER_INVALID',
      error_description: "Handler URL host doesn't match application url",
    });
    expect(placements()).toEqual([]);
    // Same host, any port and path, any letter case: accepted.
    expect((await bind('https://APP.example.com:8443/placements/settings')).body.result).toBe(true);
    expect(placements()).toHaveLength(1);
  });

  it('event.bind refuses the same handlers and stores nothing', async () => {
    const ev = (handler: string) => env.call('event.bind', { event: 'ONAPPUNINSTALL', handler });
    expect((await ev('http://localhost/events')).body.error).toBe('ERROR_WRONG_HANDLER_URL');
    expect((await ev('ftp://app.example.com/events')).body.error).toBe('ERROR_UNSUPPORTED_PROTOCOL');
    const other = await ev('https://evil.example.org/events');
    expect(other.status).toBe(400);
    expect(other.body).toEqual({
      error: 'ERROR_HANDLER_URL_MATCH',
      error_description: "Handler URL host doesn't match application url",
    });
    expect(events()).toEqual([]);
    expect((await ev('https://app.example.com/events')).body.result).toBe(true);
    expect(events()).toHaveLength(1);
  });

  it('setAppUrl (the app card edited) moves the host that handlers must match', async () => {
    env.emulator.setAppUrl('https://moved.example.net/');
    try {
      expect((await bind('https://app.example.com/x')).body.error).toBe('PLACEMENT_HANDLER_INVALID');
      expect((await bind('https://moved.example.net/placements/settings')).body.result).toBe(true);
    } finally {
      env.emulator.setAppUrl('https://app.example.com');
    }
    expect(() => env.emulator.setAppUrl('not a url')).toThrow();
  });

  it('without a registered app URL only the dot rule applies', async () => {
    const bare = await frozenEmulator();
    try {
      const r = (handler: string) =>
        bare.call('landing.repo.bind', {
          fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: handler },
        });
      expect((await r('http://localhost/x')).body.error).toBe('PLACEMENT_HANDLER_INVALID');
      expect((await r('http://127.0.0.1:3000/x')).body.result).toBe(true);
      expect((await r('https://anything.example.net/x')).body.result).toBe(true);
    } finally {
      await bare.emulator.close();
    }
  });
});

describe('landing methods', () => {
  let env: Awaited<ReturnType<typeof frozenEmulator>>;
  let userToken: string;
  beforeAll(async () => {
    env = await frozenEmulator();
    userToken = env.emulator.issueTokens(env.portal.memberId, 2).access_token;
  });
  afterAll(() => env.emulator.close());

  it('syspage.set with a page that does not exist (or is deleted) answers true and changes nothing', async () => {
    const before = env.emulator.inspect().syspages;
    const r = await env.call('landing.syspage.set', { id: 30, type: 'catalog', lid: 424242 });
    expect(r.status).toBe(200);
    expect(r.body.result).toBe(true);
    expect(env.emulator.inspect().syspages).toEqual(before);
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result.catalog.LANDING_ID).toBe('31');
    // An existing page is assigned.
    await env.call('landing.syspage.set', { id: 30, type: 'catalog', lid: 32 });
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result.catalog.LANDING_ID).toBe('32');
  });

  it('syspage.set keeps lid 0 / "" as 0 instead of removing the binding', async () => {
    await env.call('landing.syspage.set', { id: 31, type: 'personal', lid: '' });
    expect(env.emulator.inspect().syspages).toContainEqual({ siteId: 31, type: 'personal', landingId: 0 });
  });

  it('markDelete honours mark: false restores the site, true (default) trashes it', async () => {
    expect((await env.call('landing.site.markDelete', { id: 31 })).body.result).toBe(31);
    expect(env.emulator.inspect().sites.find((s) => s.id === 31)?.deleted).toBe(true);
    for (const mark of [false, 'N', '0']) {
      await env.call('landing.site.markDelete', { id: 31, mark: true });
      expect((await env.call('landing.site.markDelete', { id: 31, mark })).body.result).toBe(31);
      expect(env.emulator.inspect().sites.find((s) => s.id === 31)?.deleted).toBe(false);
    }
    // mark=false still needs the right to change the site.
    await env.call('landing.site.markDelete', { id: 31 });
    const denied = await env.call('landing.site.markDelete', { id: 31, mark: false }, userToken);
    expect(denied.body.error).toBe('ACCESS_DENIED');
    expect(env.emulator.inspect().sites.find((s) => s.id === 31)?.deleted).toBe(true);
  });
});

describe('non-admin user (user 2)', () => {
  let env: Awaited<ReturnType<typeof frozenEmulator>>;
  let userToken: string;
  beforeAll(async () => {
    env = await frozenEmulator();
    userToken = env.emulator.issueTokens(env.portal.memberId, 2).access_token;
  });
  afterAll(() => env.emulator.close());

  it('server.time answers ISO time and scope the granted scopes', async () => {
    expect((await env.call('server.time')).body.result).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect((await env.call('scope')).body.result).toEqual(['landing', 'placement', 'user_brief']);
  });

  it('user.admin answers false for user 2 and true for the admin', async () => {
    expect((await env.call('user.admin', {}, userToken)).body.result).toBe(false);
    expect((await env.call('user.admin')).body.result).toBe(true);
  });

  it('is refused app.option.set (403 ACCESS_DENIED) and event.unbind, and cannot install', async () => {
    const set = await env.call('app.option.set', { options: { x: 1 } }, userToken);
    expect(set.status).toBe(403);
    expect(set.body).toEqual({
      error: 'ACCESS_DENIED',
      error_description: 'Access denied! Administrator authorization required',
    });
    expect((await env.call('event.unbind', { event: 'ONAPPUNINSTALL' }, userToken)).status).toBe(403);
    await expect(
      env.emulator.installApp(undefined, { userId: 2, appUrl: 'https://app.example.com' }),
    ).rejects.toThrow(/administrator/);
    expect(env.emulator.inspect().apps[0]?.options).toEqual({});
  });
});

describe('the app page after installFinish', () => {
  let receiver: FastifyInstance;
  let appUrl: string;
  let emulator: EmulatorHandle;
  const hits: { path: string; body: Record<string, string> }[] = [];

  beforeAll(async () => {
    receiver = Fastify();
    receiver.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, b, done) =>
      done(null, Object.fromEntries(new URLSearchParams(String(b)))),
    );
    receiver.post('/*', async (req) => {
      hits.push({ path: new URL(req.url, 'http://x').pathname, body: req.body as Record<string, string> });
      return 'ok';
    });
    await receiver.listen({ host: '127.0.0.1', port: 0 });
    const addr = receiver.server.address();
    appUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    emulator = await startEmulator({ appUrl, portals: [{ appsInstalled: false }] });
  });
  afterAll(async () => {
    await emulator.close();
    await receiver.close();
  });

  const frameEvent = async (frameId: string, command: string) => {
    const res = await fetch(`${emulator.portal().baseUrl}/_emulator/api/frame-event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ frameId, command, params: null }),
    });
    return res.json();
  };

  it('before installFinish: the admin gets the installer again, user 2 is refused', async () => {
    await emulator.installApp();
    await expect(emulator.openApp(undefined, { userId: 2 })).rejects.toThrow(/not fully installed/);
    const again = await emulator.openApp();
    expect(again.payload.action).toContain('/install?');
  });

  it('setInstallFinish from the installer reloads the frame with a DEFAULT POST to the handler path', async () => {
    const open = await fetch(`${emulator.portal().baseUrl}/_emulator/api/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'install' }),
    });
    const install = await open.json();
    const answer = await frameEvent(install.frameId, 'setInstallFinish');
    expect(emulator.inspect().apps[0]?.installFinished).toBe(true);
    expect(answer.reloadState).toBe(true);
    const next = answer.navigate;
    expect(new URL(next.action).pathname).toBe('/');
    const body = Object.fromEntries(next.body as [string, string][]);
    expect(body).toMatchObject({
      PLACEMENT: 'DEFAULT',
      APPLICATION_TOKEN: emulator.inspect().apps[0]?.applicationToken,
      SERVER_ENDPOINT: emulator.serverEndpoint,
      APPLICATION_SCOPE: 'landing,placement,user_brief',
      member_id: emulator.portal().memberId,
    });
    expect(next.init).toMatchObject({ PLACEMENT: 'DEFAULT', INSTALL: false });
    // The new frame is known to the editor: its commands are recorded.
    expect((await frameEvent(next.frameId, 'getInitData')).reply.PLACEMENT).toBe('DEFAULT');
    // setInstallFinish from the app page (not the installer) changes nothing.
    const noop = await frameEvent(next.frameId, 'setInstallFinish');
    expect(noop.navigate).toBeUndefined();
  });

  it('openApp POSTs the app page for any user once installed', async () => {
    const res = await emulator.openApp(undefined, { userId: 2 });
    expect(res.status).toBe(200);
    const hit = hits.at(-1)!;
    expect(hit.path).toBe('/');
    expect(hit.body).toMatchObject({ PLACEMENT: 'DEFAULT', member_id: emulator.portal().memberId });
    const me = await rest(emulator.portal().clientEndpoint, 'user.admin', { auth: hit.body.AUTH_ID });
    expect(me.body.result).toBe(false);
  });
});
