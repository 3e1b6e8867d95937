// Every typed wrapper against the emulator over HTTP: parameters go out in Bitrix24's shape,
// answers (string ids, Y/N flags, [] for {}) come back parsed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import { AccessError, AuthError, ParameterError } from '../../src/bitrix24/errors.js';
import { createTestEnv, type TestEnv } from './setup.js';

let env: TestEnv;
let client: Bitrix24Client;
const HANDLER = 'https://app.example.test/widgets/settings';

beforeAll(async () => {
  env = await createTestEnv();
  client = env.factory.forInstallation(env.installation);
});
afterAll(() => env?.close());

const requests = () => env.emulator.stats.portal().restRequests;

describe('landing.repo', () => {
  it('binds and unbinds a placement', async () => {
    await expect(
      client.landing.repo.bind({
        fields: { PLACEMENT: 'landing_settings', PLACEMENT_HANDLER: HANDLER, TITLE: 'Settings' },
      }),
    ).resolves.toBe(true);
    const placements = env.emulator.inspect().apps[0]!.placements;
    expect(placements).toMatchObject([
      { placement: 'LANDING_SETTINGS', handler: HANDLER, title: 'Settings' },
    ]);

    const again = client.landing.repo.bind({
      fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: HANDLER },
    });
    await expect(again).rejects.toBeInstanceOf(ParameterError);
    await expect(again).rejects.toMatchObject({
      code: 'PLACEMENT_EXIST',
      status: 400,
      method: 'landing.repo.bind',
    });

    await expect(client.landing.repo.unbind({ code: 'LANDING_SETTINGS', handler: HANDLER })).resolves.toBe(
      true,
    );
    expect(env.emulator.inspect().apps[0]!.placements).toEqual([]);
    await expect(client.landing.repo.unbind({ code: 'LANDING_SETTINGS' })).rejects.toMatchObject({
      code: 'PLACEMENT_NO_EXIST',
      kind: 'parameter',
    });
  });

  it('checks parameters before sending anything', async () => {
    const before = requests();
    await expect(
      client.landing.repo.bind({ fields: { PLACEMENT: 'CRM_LEAD', PLACEMENT_HANDLER: HANDLER } }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMS', kind: 'parameter', status: 0 });
    await expect(
      client.landing.repo.bind({
        fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: 'javascript:alert(1)' },
      }),
    ).rejects.toBeInstanceOf(ParameterError);
    // @ts-expect-error: an unknown special page type is refused by the types too
    await expect(client.landing.syspage.set({ id: 30, type: 'nonsense', lid: 31 })).rejects.toBeInstanceOf(
      ParameterError,
    );
    expect(requests()).toBe(before);
  });
});

describe('landing.syspage', () => {
  it('gets, sets and clears special pages', async () => {
    const pages = await client.landing.syspage.get({ id: 30 });
    expect(pages).toMatchObject({
      mainpage: { TYPE: 'mainpage', LANDING_ID: 30, ACTIVE: 'Y', DELETED: 'N' },
      catalog: { TYPE: 'catalog', LANDING_ID: 31 },
    });
    await expect(client.landing.syspage.set({ id: 30, type: 'personal', lid: 32 })).resolves.toBe(true);
    expect((await client.landing.syspage.get({ id: '30' }))?.personal?.LANDING_ID).toBe(32);

    const url = await client.landing.syspage.getSpecialPage({
      siteId: 30,
      type: 'personal',
      additional: { a: 'b' },
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pub\/site\/demo-store\/personal\/\?a=b$/);
    await expect(client.landing.syspage.getSpecialPage({ siteId: 30, type: 'cart' })).resolves.toBe('');
    await expect(client.landing.syspage.getSpecialPage({ siteId: 4040, type: 'cart' })).resolves.toBeNull();

    // `lid` left out clears the type.
    await expect(client.landing.syspage.set({ id: 30, type: 'personal' })).resolves.toBe(true);
    expect((await client.landing.syspage.get({ id: 30 }))?.personal).toBeUndefined();
    // PHP's empty array ([]) arrives as {}.
    await expect(client.landing.syspage.get({ id: 31 })).resolves.toEqual({});
    await expect(client.landing.syspage.get({ id: 4040 })).resolves.toBeNull();
  });
});

describe('landing.site, landing.landing, landing.block', () => {
  it('lists sites with numeric ids and marks one deleted and back', async () => {
    const sites = await client.landing.site.getList({
      params: { select: ['ID', 'TITLE', 'TYPE'], order: { ID: 'ASC' } },
    });
    expect(sites).toEqual([
      { ID: 30, TITLE: 'Demo Store', TYPE: 'STORE' },
      { ID: 31, TITLE: 'Company Blog', TYPE: 'PAGE' },
    ]);
    await expect(client.landing.site.markDelete({ id: 31 })).resolves.toBe(31);
    expect((await client.landing.site.getList({})).map((s) => s.ID)).toEqual([30]);
    const deleted = await client.landing.site.getList({ params: { filter: { DELETED: 'Y' } } });
    expect(deleted).toMatchObject([{ ID: 31, DELETED: 'Y' }]);
    await expect(client.landing.site.markUnDelete({ id: 31 })).resolves.toBe(31);
    expect((await client.landing.site.getList({})).map((s) => s.ID)).toEqual([30, 31]);
  });

  it('lists pages of a site', async () => {
    const pages = await client.landing.landing.getList({
      params: { filter: { SITE_ID: 30 }, order: { ID: 'ASC' } },
    });
    expect(pages.map((p) => [p.ID, p.SITE_ID, p.TITLE])).toEqual([
      [30, 30, 'Home'],
      [31, 30, 'Catalog'],
      [32, 30, 'Personal Section'],
    ]);
  });

  it('lists blocks of one or several pages', async () => {
    const blocks = await client.landing.block.getList({ lid: 30 });
    expect(blocks.map((b) => [b.id, b.lid, b.code, b.active])).toEqual([
      [995, 30, '0.menu_02', true],
      [996, 30, '43.4.cover_with_price_text_button_bgimg', true],
      [997, 30, '04.1.one_col_fix_with_title', true],
    ]);
    const both = await client.landing.block.getList({ lid: [30, 31], params: { get_content: true } });
    expect(both).toHaveLength(5);
    expect(both[0]?.content).toContain('block-wrapper');
    await expect(client.landing.block.getList({ lid: 4040 })).rejects.toMatchObject({
      code: 'LANDING_NOT_EXIST',
    });
  });
});

describe('app.option, event, app.info, user.current', () => {
  it('sets and reads app options', async () => {
    await expect(client.app.option.get()).resolves.toEqual({});
    await expect(client.app.option.set({ options: { theme: 'dark', count: 3 } })).resolves.toBe(true);
    await expect(client.app.option.get({ option: 'theme' })).resolves.toBe('dark');
    await expect(client.app.option.get({})).resolves.toEqual({ theme: 'dark', count: 3 });
    await expect(client.app.option.set({ options: {} })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    // The portal's own answer to an empty set, sent raw.
    await expect(client.call('app.option.set', { options: {} })).rejects.toMatchObject({
      code: 'ArgumentNullException',
      kind: 'parameter',
    });
  });

  it('binds, lists and unbinds event handlers', async () => {
    const handler = 'https://app.example.test/events';
    await expect(client.event.bind({ event: 'ONAPPUNINSTALL', handler })).resolves.toBe(true);
    await expect(client.event.get()).resolves.toEqual([
      { event: 'ONAPPUNINSTALL', handler, auth_type: 0, offline: false },
    ]);
    await expect(client.event.unbind({ event: 'ONAPPUNINSTALL', handler })).resolves.toEqual({ count: 1 });
    await expect(client.event.get()).resolves.toEqual([]);
    await expect(client.event.bind({ event: 'ONNOSUCHTHING', handler })).rejects.toMatchObject({
      code: 'ERROR_EVENT_NOT_FOUND',
      kind: 'parameter',
    });
  });

  it('reads app.info and user.current', async () => {
    await expect(client.app.info()).resolves.toMatchObject({
      ID: 1,
      CODE: 'local.emulator-app',
      STATUS: 'L',
    });
    await expect(client.user.current()).resolves.toMatchObject({ ID: 1, NAME: 'Anna', ACTIVE: true });
  });
});

describe('widget user client', () => {
  it("calls as the user who opened the widget, on the installation's endpoint", async () => {
    const user = env.emulator.issueTokens(undefined, 2);
    const asUser = env.factory.forUser(env.installation, user.access_token);
    await expect(asUser.user.current()).resolves.toMatchObject({ ID: 2, NAME: 'Ivan' });
    // Ordinary users may read sites but not change them, nor set app options.
    await expect(asUser.landing.site.getList({})).resolves.toHaveLength(2);
    await expect(asUser.landing.site.markDelete({ id: 30 })).rejects.toBeInstanceOf(AccessError);
    await expect(asUser.app.option.set({ options: { a: '1' } })).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      status: 403,
      kind: 'access',
    });
  });

  it('is never refreshed: a rejected user token is an AuthError', async () => {
    const user = env.emulator.issueTokens(undefined, 2);
    env.emulator.expireAccessToken(user.access_token);
    const refreshesBefore = env.emulator.stats.snapshot().oauth.requests;
    const asUser = env.factory.forUser(env.installation, user.access_token);
    await expect(asUser.user.current()).rejects.toBeInstanceOf(AuthError);
    await expect(env.factory.forUser(env.installation, 'not-a-token').user.current()).rejects.toMatchObject({
      code: 'NO_AUTH_FOUND',
      status: 401,
    });
    expect(() => env.factory.forUser(env.installation, 'bad token with spaces')).toThrow(AuthError);
    expect(env.emulator.stats.snapshot().oauth.requests).toBe(refreshesBefore);
  });
});

// api-reference/landing/types.md: knowledge bases (and group ones, and the main page) are seen
// by landing.* methods only with their `scope`.
describe('landing.* with a scope', () => {
  it('sees a knowledge base only in its scope, on every method the widgets call', async () => {
    const kb = await client.rest.call<number>('landing.site.add', {
      fields: { TITLE: 'Handbook', CODE: 'handbook', TYPE: 'KNOWLEDGE' },
    });
    const lid = await client.rest.call<number>('landing.landing.add', {
      fields: { SITE_ID: kb, TITLE: 'Welcome', CODE: 'welcome' },
    });
    expect((await client.landing.site.getList({})).map((s) => s.ID)).not.toContain(kb);
    expect(
      await client.landing.site.getList({ scope: 'KNOWLEDGE', params: { select: ['ID', 'TYPE'] } }),
    ).toEqual([{ ID: kb, TYPE: 'KNOWLEDGE' }]);
    expect(await client.landing.site.getList({ scope: 'GROUP' })).toEqual([]);
    expect(await client.landing.landing.getList({ params: { filter: { SITE_ID: kb } } })).toEqual([]);
    const pages = await client.landing.landing.getList({
      scope: 'KNOWLEDGE',
      params: { filter: { SITE_ID: kb } },
    });
    expect(pages.map((p) => p.ID)).toEqual([lid]);

    await expect(client.landing.syspage.get({ id: kb })).resolves.toBeNull();
    await expect(client.landing.syspage.set({ id: kb, type: 'mainpage', lid })).resolves.toBe(true);
    await expect(client.landing.syspage.get({ id: kb, scope: 'KNOWLEDGE' })).resolves.toEqual({});
    await expect(
      client.landing.syspage.set({ id: kb, type: 'mainpage', lid, scope: 'KNOWLEDGE' }),
    ).resolves.toBe(true);
    expect((await client.landing.syspage.get({ id: kb, scope: 'KNOWLEDGE' }))?.mainpage?.LANDING_ID).toBe(
      lid,
    );
    await expect(client.landing.syspage.getSpecialPage({ siteId: kb, type: 'mainpage' })).resolves.toBeNull();
    expect(
      await client.landing.syspage.getSpecialPage({ siteId: kb, type: 'mainpage', scope: 'KNOWLEDGE' }),
    ).toMatch(/\/welcome\/$/);

    await expect(client.landing.block.getList({ lid })).rejects.toMatchObject({ code: 'LANDING_NOT_EXIST' });
    await expect(client.landing.block.getList({ lid, scope: 'KNOWLEDGE' })).resolves.toEqual([]);
    await expect(client.landing.site.markDelete({ id: kb })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(client.landing.site.markDelete({ id: kb, scope: 'KNOWLEDGE' })).resolves.toBe(kb);
    await expect(client.landing.site.markUnDelete({ id: kb, scope: 'KNOWLEDGE' })).resolves.toBe(kb);
  });

  it('refuses a scope the docs do not name before sending anything', async () => {
    const before = requests();
    await expect(client.landing.site.getList({ scope: 'landing' as never })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      status: 0,
    });
    expect(requests()).toBe(before);
  });
});
