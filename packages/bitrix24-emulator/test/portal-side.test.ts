import Fastify, { type FastifyInstance } from 'fastify';
import qs from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APP, type EmulatorHandle, startEmulator } from '../src/index.js';
import { rest } from '../src/testing.js';

interface Hit {
  path: string;
  query: Record<string, string>;
  rawBody: string;
  contentType: string;
}

let receiver: FastifyInstance;
let appUrl: string;
const hits: Hit[] = [];
let emulator: EmulatorHandle;

beforeAll(async () => {
  // The test's own HTTP peer standing in for the app: records exactly what the portal sends.
  receiver = Fastify();
  receiver.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_r, body, done) => done(null, body),
  );
  receiver.post('/*', async (req) => {
    const url = new URL(req.url, 'http://x');
    hits.push({
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      rawBody: String(req.body),
      contentType: String(req.headers['content-type']),
    });
    return 'ok';
  });
  await receiver.listen({ host: '127.0.0.1', port: 0 });
  const addr = receiver.server.address();
  appUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  emulator = await startEmulator({
    appUrl,
    apps: [{ ...DEFAULT_APP, appSid: '926d17365a87fbb35bace60dcc8f08cf' }],
  });
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});

const bodyPairs = (raw: string) => [...new URLSearchParams(raw)];

describe('installApp', () => {
  it('form-POSTs with DOMAIN/PROTOCOL/LANG/APP_SID in the query and tokens in the body', async () => {
    const res = await emulator.installApp();
    expect(res.status).toBe(200);
    const hit = hits.at(-1)!;
    const portal = emulator.portal();
    expect(hit.path).toBe('/install');
    expect(hit.contentType).toBe('application/x-www-form-urlencoded');
    expect(hit.query).toEqual({
      DOMAIN: portal.domain,
      PROTOCOL: '0',
      LANG: 'en',
      APP_SID: '926d17365a87fbb35bace60dcc8f08cf',
    });
    const body = bodyPairs(hit.rawBody);
    // Current portals (settings/oauth/simple-way.md) also send the OAuth server, the application
    // token and the granted scopes.
    expect(body.map(([k]) => k)).toEqual([
      'AUTH_ID',
      'AUTH_EXPIRES',
      'REFRESH_ID',
      'SERVER_ENDPOINT',
      'APPLICATION_TOKEN',
      'APPLICATION_SCOPE',
      'member_id',
      'status',
      'PLACEMENT',
      'PLACEMENT_OPTIONS',
    ]);
    const b = Object.fromEntries(body);
    expect(b).toMatchObject({
      SERVER_ENDPOINT: emulator.serverEndpoint,
      APPLICATION_TOKEN: emulator.inspect().apps[0]?.applicationToken,
      APPLICATION_SCOPE: 'landing,placement,user_brief',
      AUTH_EXPIRES: '3600',
      member_id: portal.memberId,
      status: 'L',
      PLACEMENT: 'DEFAULT',
    });
    // The AUTH_ID is a working admin token on this portal.
    const me = await rest(portal.clientEndpoint, 'user.current', { auth: b.AUTH_ID });
    expect(me.body.result.ID).toBe(String(portal.adminUserId));
    expect(emulator.inspect().apps[0]).toMatchObject({ installed: true, installFinished: false });
  });

  it('honours appUrl and installPath overrides', async () => {
    await emulator.installApp(undefined, { appUrl: `${appUrl}/base/`, installPath: 'setup' });
    expect(hits.at(-1)?.path).toBe('/base/setup');
  });
});

describe('openPlacement', () => {
  it('refuses placements until installFinish, then POSTs the LANDING_SETTINGS payload', async () => {
    const portal = emulator.portal();
    const admin = emulator.issueTokens();
    await rest(portal.clientEndpoint, 'landing.repo.bind', {
      auth: admin.access_token,
      fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: `${appUrl}/settings`, TITLE: 'Settings' },
    });
    await expect(emulator.openPlacement(undefined, { placement: 'LANDING_SETTINGS' })).rejects.toThrow(
      /installFinish/,
    );
    emulator.finishInstall();
    const res = await emulator.openPlacement(undefined, {
      placement: 'landing_settings',
      userId: 2,
      lang: 'de',
    });
    expect(res.status).toBe(200);
    const hit = hits.at(-1)!;
    expect(hit.path).toBe('/settings');
    expect(hit.query).toEqual({
      DOMAIN: portal.domain,
      PROTOCOL: '0',
      LANG: 'de',
      APP_SID: '926d17365a87fbb35bace60dcc8f08cf',
    });
    const body = bodyPairs(hit.rawBody);
    expect(body.map(([k]) => k)).toEqual([
      'APPLICATION_SCOPE',
      'APPLICATION_TOKEN',
      'AUTH_ID',
      'AUTH_EXPIRES',
      'REFRESH_ID',
      'SERVER_ENDPOINT',
      'member_id',
      'status',
      'PLACEMENT',
      'PLACEMENT_OPTIONS',
    ]);
    const b = Object.fromEntries(body);
    expect(b).toMatchObject({
      APPLICATION_SCOPE: 'landing,placement,user_brief',
      APPLICATION_TOKEN: emulator.inspect().apps[0]?.applicationToken,
      SERVER_ENDPOINT: emulator.serverEndpoint,
      member_id: portal.memberId,
      PLACEMENT: 'LANDING_SETTINGS',
      PLACEMENT_OPTIONS: '{"SITE_ID":"30","LID":"30"}',
    });
    // AUTH_ID belongs to the user who opened the widget.
    expect((await rest(portal.clientEndpoint, 'user.current', { auth: b.AUTH_ID })).body.result.ID).toBe('2');
  });

  it('POSTs LANDING_BLOCK_* with the block context', async () => {
    const portal = emulator.portal();
    const admin = emulator.issueTokens();
    await rest(portal.clientEndpoint, 'landing.repo.bind', {
      auth: admin.access_token,
      fields: { PLACEMENT: 'LANDING_BLOCK_*', PLACEMENT_HANDLER: `${appUrl}/block`, TITLE: 'Block widget' },
    });
    await emulator.openPlacement(undefined, { placement: 'LANDING_BLOCK_*', blockId: 996 });
    const b = Object.fromEntries(bodyPairs(hits.at(-1)!.rawBody));
    expect(b.PLACEMENT).toBe('LANDING_BLOCK_*');
    expect(b.PLACEMENT_OPTIONS).toBe(
      '{"ID":"996","CODE":"43.4.cover_with_price_text_button_bgimg","LID":"30"}',
    );
  });

  it('matches LANDING_BLOCK_<CODE> case-insensitively, including repo blocks', async () => {
    const portal = emulator.portal();
    const admin = emulator.issueTokens();
    await rest(portal.clientEndpoint, 'landing.repo.bind', {
      auth: admin.access_token,
      fields: { PLACEMENT: 'LANDING_BLOCK_repo_1132', PLACEMENT_HANDLER: `${appUrl}/repo` },
    });
    await emulator.openPlacement(undefined, { placement: 'LANDING_BLOCK_REPO_1132' });
    const b = Object.fromEntries(bodyPairs(hits.at(-1)!.rawBody));
    expect(b.PLACEMENT_OPTIONS).toBe('{"ID":"999","CODE":"repo_1132","LID":"31"}');
    await expect(
      emulator.openPlacement(undefined, { placement: 'LANDING_BLOCK_REPO_1132', blockId: 996 }),
    ).rejects.toThrow(/not shown/);
  });
});

describe('events', () => {
  it('sendOnAppInstall posts ONAPPINSTALL with every auth[...] field', async () => {
    await emulator.sendOnAppInstall(undefined, `${appUrl}/event`);
    const hit = hits.at(-1)!;
    expect(hit.rawBody).toContain('auth%5Baccess_token%5D=');
    const body = qs.parse(hit.rawBody) as Record<string, Record<string, string>>;
    expect(body.event).toBe('ONAPPINSTALL');
    expect(Object.keys(body.auth ?? {}).sort()).toEqual(
      [
        'access_token',
        'application_token',
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
    expect(body.auth).toMatchObject({
      domain: emulator.portal().domain,
      member_id: emulator.portal().memberId,
      application_token: emulator.inspect().apps[0]?.applicationToken,
      client_endpoint: emulator.portal().clientEndpoint,
    });
    expect(body.data).toMatchObject({ VERSION: '1', LANGUAGE_ID: 'en' });
    expect(body.ts).toMatch(/^\d+$/);
  });

  it('uninstallApp posts ONAPPUNINSTALL to the bound handler and revokes the app', async () => {
    const portal = emulator.portal();
    const admin = emulator.issueTokens();
    await rest(portal.clientEndpoint, 'event.bind', {
      auth: admin.access_token,
      event: 'ONAPPUNINSTALL',
      handler: `${appUrl}/uninstall`,
    });
    const token = emulator.inspect().apps[0]?.applicationToken;
    const results = await emulator.uninstallApp(undefined, { clean: true });
    expect(results).toHaveLength(1);
    const hit = hits.at(-1)!;
    expect(hit.path).toBe('/uninstall');
    const body = qs.parse(hit.rawBody) as Record<string, Record<string, string>>;
    expect(body.event).toBe('ONAPPUNINSTALL');
    expect(body.data).toMatchObject({ CLEAN: '1', LANGUAGE_ID: 'en' });
    expect(body.auth).toMatchObject({
      member_id: portal.memberId,
      application_token: token,
      domain: portal.domain,
    });
    const after = await rest(portal.clientEndpoint, 'user.current', { auth: admin.access_token });
    expect(after.body.error).toBe('NO_AUTH_FOUND');
    expect(emulator.inspect().apps[0]).toMatchObject({ installed: false, placements: [], events: [] });
    // CLEAN=1 removed the app's options; a reinstall brings the app back with the same application_token.
    expect(emulator.inspect().apps[0]?.options).toEqual({});
    await emulator.installApp();
    expect(emulator.inspect().apps[0]?.applicationToken).toBe(token);
  });

  it('uninstallApp with CLEAN=0 keeps the app options (and user options) for a reinstall', async () => {
    const portal = emulator.portal();
    const admin = emulator.issueTokens();
    const set = await rest(portal.clientEndpoint, 'app.option.set', {
      auth: admin.access_token,
      options: { kept: 'yes' },
    });
    expect(set.body.result).toBe(true);
    await rest(portal.clientEndpoint, 'event.bind', {
      auth: admin.access_token,
      event: 'ONAPPUNINSTALL',
      handler: `${appUrl}/uninstall`,
    });
    await emulator.uninstallApp(undefined, { clean: false });
    const body = qs.parse(hits.at(-1)!.rawBody) as Record<string, Record<string, string>>;
    expect(body.data).toMatchObject({ CLEAN: '0' });
    expect(emulator.inspect().apps[0]).toMatchObject({ installed: false, placements: [], events: [] });
    expect(emulator.inspect().apps[0]?.options).toEqual({ kept: 'yes' });
    await emulator.installApp();
    const again = emulator.issueTokens();
    const got = await rest(portal.clientEndpoint, 'app.option.get', { auth: again.access_token });
    expect(got.body.result).toEqual({ kept: 'yes' });
  });
});
