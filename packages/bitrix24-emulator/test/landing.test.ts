import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenEmulator } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;
let userToken: string;

beforeAll(async () => {
  env = await frozenEmulator();
  userToken = env.emulator.issueTokens(env.portal.memberId, 2).access_token;
});
afterAll(() => env.emulator.close());

const bind = (fields: unknown, token?: string) => env.call('landing.repo.bind', { fields }, token);

describe('landing.repo.bind / unbind', () => {
  it('trims and upper-cases PLACEMENT and stores the binding', async () => {
    const r = await bind({
      PLACEMENT: '  landing_block_04.1.one_col_fix_with_title ',
      PLACEMENT_HANDLER: 'https://app.test/b',
      TITLE: 'Mine',
    });
    expect(r.body.result).toBe(true);
    const placements = env.emulator.inspect().apps[0]?.placements ?? [];
    expect(placements.at(-1)).toMatchObject({
      placement: 'LANDING_BLOCK_04.1.ONE_COL_FIX_WITH_TITLE',
      handler: 'https://app.test/b',
      title: 'Mine',
    });
  });

  it('refuses the same PLACEMENT + handler twice with PLACEMENT_EXIST', async () => {
    const f = { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: 'https://app.test/s' };
    expect((await bind(f)).body.result).toBe(true);
    const again = await bind({ ...f, PLACEMENT: 'landing_settings' });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: 'PLACEMENT_EXIST',
      error_description: 'Such embedding placement already exists',
    });
    expect((await bind({ ...f, PLACEMENT_HANDLER: 'https://app.test/s2' })).body.result).toBe(true);
  });

  it('validates fields, placement and handler', async () => {
    expect((await env.call('landing.repo.bind', {})).body.error).toBe('MISSING_PARAMS');
    expect((await bind('text')).body.error).toBe('TYPE_ERROR');
    const unknown = await bind({ PLACEMENT: 'CRM_DEAL_TAB', PLACEMENT_HANDLER: 'https://app.test/x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('PLACEMENT_UNKNOWN');
    for (const h of ['', '/relative', 'ftp://app.test/x', 'not a url']) {
      const r = await bind({ PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: h });
      expect(r.body.error).toBe('PLACEMENT_HANDLER_INVALID');
    }
  });

  it('lets ordinary users bind (View right is enough)', async () => {
    const r = await bind(
      { PLACEMENT: 'LANDING_BLOCK_*', PLACEMENT_HANDLER: 'https://app.test/user' },
      userToken,
    );
    expect(r.body.result).toBe(true);
  });

  it('lists the app placements with placement.get', async () => {
    const r = await env.call('placement.get');
    expect(r.body.result).toContainEqual(
      expect.objectContaining({ placement: 'LANDING_SETTINGS', handler: 'https://app.test/s', title: '' }),
    );
  });

  it('unbinds one handler, or every handler of a code without handler', async () => {
    expect(
      (await env.call('landing.repo.unbind', { code: 'landing_settings', handler: 'https://app.test/s' }))
        .body.result,
    ).toBe(true);
    let left =
      env.emulator.inspect().apps[0]?.placements.filter((p) => p.placement === 'LANDING_SETTINGS') ?? [];
    expect(left.map((p) => p.handler)).toEqual(['https://app.test/s2']);
    await bind({ PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: 'https://app.test/s3' });
    expect((await env.call('landing.repo.unbind', { code: 'LANDING_SETTINGS' })).body.result).toBe(true);
    left = env.emulator.inspect().apps[0]?.placements.filter((p) => p.placement === 'LANDING_SETTINGS') ?? [];
    expect(left).toEqual([]);
    const none = await env.call('landing.repo.unbind', { code: 'LANDING_SETTINGS' });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({
      error: 'PLACEMENT_NO_EXIST',
      error_description: 'Such embedding placement does not exist',
    });
    expect((await env.call('landing.repo.unbind', {})).body.error).toBe('MISSING_PARAMS');
  });
});

describe('landing.site.*', () => {
  it('lists sites with select/filter/order, excluding deleted ones by default', async () => {
    const r = await env.call('landing.site.getList', {
      params: { select: ['ID', 'TITLE'], filter: { '>ID': 0 }, order: { ID: 'DESC' } },
    });
    expect(r.body.result).toEqual([
      { ID: '31', TYPE: 'PAGE', TITLE: 'Company Blog' },
      { ID: '30', TYPE: 'STORE', TITLE: 'Demo Store' },
    ]);
    const all = await env.call('landing.site.getList');
    expect(all.body.result[0]).toMatchObject({
      ID: '30',
      CODE: 'demo-store',
      ACTIVE: 'Y',
      DELETED: 'N',
      LANDING_ID_INDEX: '30',
    });
    expect((await env.call('landing.site.getList', { params: { filter: { NOPE: 1 } } })).body.error).toBe(
      'SYSTEM_ERROR',
    );
  });

  it('adds a site (ordinary users may not)', async () => {
    const r = await env.call('landing.site.add', { fields: { TITLE: 'New', CODE: 'new' } });
    expect(typeof r.body.result).toBe('number');
    const dup = await env.call('landing.site.add', { fields: { TITLE: 'New again', CODE: 'new' } });
    const codes = await env.call('landing.site.getList', {
      params: { select: ['CODE'], filter: { ID: [r.body.result, dup.body.result] } },
    });
    expect(codes.body.result.map((s: { CODE: string }) => s.CODE)).toEqual(['new', 'new2']);
    expect((await env.call('landing.site.add', { fields: { TITLE: 'x', CODE: 'a/b' } })).body.error).toBe(
      'SLASH_IS_NOT_ALLOWED',
    );
    expect((await env.call('landing.site.add', { fields: { TITLE: 'x' } }, userToken)).body.error).toBe(
      'ACCESS_DENIED',
    );
  });

  it('markDelete returns the id, hides the site; markUnDelete restores it', async () => {
    const del = await env.call('landing.site.markDelete', { id: 31 });
    expect(del.body.result).toBe(31);
    const list = await env.call('landing.site.getList', { params: { select: ['ID'] } });
    expect(list.body.result.map((s: { ID: string }) => s.ID)).not.toContain('31');
    const deleted = await env.call('landing.site.getList', {
      params: { select: ['ID'], filter: { '=DELETED': 'Y' } },
    });
    expect(deleted.body.result).toEqual([{ ID: '31', TYPE: 'PAGE' }]);
    expect((await env.call('landing.site.markUnDelete', { id: '31' })).body.result).toBe(31);
    expect(env.emulator.inspect().sites.find((s) => s.id === 31)?.deleted).toBe(false);
  });

  it('markDelete errors: MISSING_PARAMS, TYPE_ERROR, ACCESS_DENIED, ACCESS_DENIED_DELETED', async () => {
    expect((await env.call('landing.site.markDelete', {})).body.error).toBe('MISSING_PARAMS');
    expect((await env.call('landing.site.markDelete', { id: { a: 1 } })).body.error).toBe('TYPE_ERROR');
    const denied = await env.call('landing.site.markDelete', { id: 30 }, userToken);
    expect(denied.status).toBe(400);
    expect(denied.body.error).toBe('ACCESS_DENIED');
    expect((await env.call('landing.site.markDelete', { id: 999999 })).body.error).toBe('ACCESS_DENIED');
    env.emulator.setDomainProvider(undefined, true);
    expect((await env.call('landing.site.markDelete', { id: 30 })).body.error).toBe('ACCESS_DENIED_DELETED');
    env.emulator.setDomainProvider(undefined, false);
  });
});

describe('landing.landing.* and landing.block.getList', () => {
  it('lists pages of a site', async () => {
    const r = await env.call('landing.landing.getList', {
      params: {
        select: ['ID', 'TITLE', 'SITE_ID'],
        filter: { SITE_ID: 30 },
        order: { ID: 'ASC' },
        get_urls: true,
      },
    });
    expect(r.body.result.map((p: { ID: string }) => p.ID)).toEqual(['30', '31', '32']);
    expect(r.body.result[0]).toMatchObject({ TITLE: 'Home', SITE_ID: '30', DOMAIN_ID: '30' });
    expect(r.body.result[0].PUBLIC_URL).toBe(`${env.portal.baseUrl}/pub/site/demo-store/index/`);
  });

  it('adds pages (inactive) and validates', async () => {
    const r = await env.call('landing.landing.add', {
      fields: { TITLE: 'Spring', SITE_ID: 30, CODE: 'spring' },
    });
    expect(typeof r.body.result).toBe('number');
    expect(env.emulator.inspect().pages.find((p) => p.id === r.body.result)).toMatchObject({
      active: false,
      siteId: 30,
    });
    expect((await env.call('landing.landing.add', { fields: { TITLE: 'x', SITE_ID: 777 } })).body.error).toBe(
      'SITE_NOT_FOUND',
    );
    expect(
      (await env.call('landing.landing.add', { fields: { TITLE: 'x', SITE_ID: 30, CODE: '' } })).body.error,
    ).toBe('CANT_BE_EMPTY');
    expect((await env.call('landing.landing.add', {})).body.error).toBe('MISSING_PARAMS');
  });

  it('lists blocks with id and code', async () => {
    const r = await env.call('landing.block.getlist', { lid: 30, params: { get_content: true } });
    expect(r.body.result.map((b: { id: number; code: string }) => [b.id, b.code])).toEqual([
      [995, '0.menu_02'],
      [996, '43.4.cover_with_price_text_button_bgimg'],
      [997, '04.1.one_col_fix_with_title'],
    ]);
    expect(r.body.result[1]).toMatchObject({
      lid: 30,
      active: true,
      meta: { LID: '30', SITE_TYPE: 'STORE' },
    });
    expect(r.body.result[1].content).toContain('id="b996"');
    const two = await env.call('landing.block.getList', { lid: [30, 31] });
    expect(two.body.result).toHaveLength(5);
    expect((await env.call('landing.block.getList', { lid: 12345 })).body.error).toBe('LANDING_NOT_EXIST');
    expect((await env.call('landing.block.getList', {})).body.error).toBe('MISSING_PARAMS');
  });
});

describe('landing.syspage.*', () => {
  it('get returns an object keyed by type, {} for none, null for a missing site', async () => {
    const r = await env.call('landing.syspage.get', { id: 30 });
    expect(r.body.result).toEqual({
      mainpage: { TYPE: 'mainpage', LANDING_ID: '30', TITLE: 'Home', DELETED: 'N', ACTIVE: 'Y' },
      catalog: { TYPE: 'catalog', LANDING_ID: '31', TITLE: 'Catalog', DELETED: 'N', ACTIVE: 'Y' },
    });
    expect((await env.call('landing.syspage.get', { id: 31 })).body.result).toEqual({});
    expect((await env.call('landing.syspage.get', { id: 4242 })).body.result).toBeNull();
    expect((await env.call('landing.syspage.get', {})).body.error).toBe('MISSING_PARAMS');
  });

  it('set trims the type, ignores unknown types and removes the binding without lid', async () => {
    expect((await env.call('landing.syspage.set', { id: 30, type: ' personal ', lid: 32 })).body.result).toBe(
      true,
    );
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result.personal.LANDING_ID).toBe('32');
    expect((await env.call('landing.syspage.set', { id: 30, type: 'bogus', lid: 32 })).body.result).toBe(
      true,
    );
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result).not.toHaveProperty('bogus');
    expect((await env.call('landing.syspage.set', { id: 30, type: 'personal' })).body.result).toBe(true);
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result).not.toHaveProperty('personal');
    expect((await env.call('landing.syspage.set', { id: 30 })).body).toEqual({
      error: 'MISSING_PARAMS',
      error_description: 'Insufficient call parameters, missing: type',
    });
    expect(
      (await env.call('landing.syspage.set', { id: 30, type: 'cart', lid: 32 }, userToken)).body.error,
    ).toBe('ACCESS_DENIED');
  });

  it('getSpecialPage returns the URL (with additional params), "" when unbound', async () => {
    const r = await env.call('landing.syspage.getSpecialPage', {
      siteId: 30,
      type: 'catalog',
      additional: { SECTION: 'x' },
    });
    expect(r.body.result).toBe(`${env.portal.baseUrl}/pub/site/demo-store/catalog/?SECTION=x`);
    expect(
      (await env.call('landing.syspage.getSpecialPage', { siteId: 30, type: ' catalog' })).body.result,
    ).toBe('');
    expect((await env.call('landing.syspage.getSpecialPage', { siteId: 30, type: 5 })).body.result).toBe('');
    expect((await env.call('landing.syspage.getSpecialPage', { siteId: 30 })).body.error).toBe(
      'MISSING_PARAMS',
    );
    const page = await fetch(r.body.result);
    expect(await page.text()).toContain('id="b998"');
  });

  it('deleteForLanding and deleteForSite remove bindings', async () => {
    expect((await env.call('landing.syspage.deleteForLanding', { id: 31 })).body.result).toBe(true);
    expect(Object.keys((await env.call('landing.syspage.get', { id: 30 })).body.result)).toEqual([
      'mainpage',
    ]);
    expect((await env.call('landing.syspage.deleteForSite', { id: 30 })).body.result).toBe(true);
    expect((await env.call('landing.syspage.get', { id: 30 })).body.result).toEqual({});
    expect((await env.call('landing.syspage.deleteForSite', {})).body.error).toBe('MISSING_PARAMS');
  });
});
