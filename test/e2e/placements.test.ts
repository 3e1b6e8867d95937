// The two widgets opened by the emulated portal, each action performed through the page's
// own form, and every refusal path; real HTTP both ways.

import { DEMO_SITES } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let memberId: string;
beforeAll(async () => {
  stack = await startStack();
  memberId = stack.emulator.portal().memberId;
  await stack.emulator.installApp(memberId, { lang: 'en' });
  stack.emulator.finishInstall(memberId);
});
afterAll(async () => stack?.close());

const ctxOf = (html: string) => /name="ctx" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function action(path: string, fields: Record<string, string>) {
  const res = await fetch(`${stack.appUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const openSettings = (o: { userId?: number; lang?: string; siteId?: number } = {}) =>
  stack.emulator.openPlacement(memberId, { placement: 'LANDING_SETTINGS', siteId: 30, ...o });

describe('LANDING_SETTINGS widget', () => {
  it('shows the site, its pages, its special pages and their URLs, framed only by the portal', async () => {
    const res = await openSettings({ lang: 'de' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Website-Einstellungen');
    expect(res.body).toContain('Demo Store');
    expect(res.body).toMatch(/<option value="30" selected>Home<\/option>/);
    expect(res.body).toMatch(/data-special-url="catalog"/);
    expect(res.headers['content-security-policy']).toContain(
      `frame-ancestors http://${stack.emulator.portal().domain}`,
    );
    expect(res.headers['x-frame-options']).toBeUndefined();
    // The user's token never appears on the page.
    const authId = res.payload.body.find(([k]) => k === 'AUTH_ID')?.[1];
    expect(authId && res.body.includes(authId)).toBe(false);
  });

  it('assigns and clears special pages with landing.syspage.set', async () => {
    const page = await openSettings();
    const ctx = ctxOf(page.body);
    const res = await action('/placements/settings/action', {
      ctx,
      action: 'syspages',
      type_mainpage: '30',
      type_catalog: '',
      type_personal: '32',
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('data-flash="ok"');
    expect(res.body).toContain('Special page “Catalog” was cleared.');
    expect(res.body).toContain('Special page “Personal account” now opens page 32.');
    const syspages = stack.emulator.inspect(memberId).syspages;
    expect(JSON.stringify(syspages)).toContain('personal');
    expect(res.body).toMatch(/<option value="32" selected>Personal Section<\/option>/);
    expect(res.body).not.toMatch(/data-special-url="catalog"/);
  });

  it('moves the site to the trash only when confirmed, and restores it', async () => {
    const ctx = ctxOf((await openSettings()).body);
    const unconfirmed = await action('/placements/settings/action', { ctx, action: 'trash' });
    expect(unconfirmed.body).toContain('Tick the confirmation box first.');
    expect(stack.emulator.inspect(memberId).sites.find((s) => s.id === 30)?.deleted).toBeFalsy();

    const trashed = await action('/placements/settings/action', { ctx, action: 'trash', confirm: 'yes' });
    expect(trashed.body).toContain('The site was moved to the trash.');
    expect(trashed.body).toContain('data-site-deleted');
    expect(stack.emulator.inspect(memberId).sites.find((s) => s.id === 30)?.deleted).toBe(true);

    const restored = await action('/placements/settings/action', { ctx, action: 'restore' });
    expect(restored.body).toContain('The site was restored from the trash.');
    expect(stack.emulator.inspect(memberId).sites.find((s) => s.id === 30)?.deleted).toBe(false);
  });

  it('says in words when the portal has a domain provider (ACCESS_DENIED_DELETED)', async () => {
    stack.emulator.setDomainProvider(memberId, true);
    try {
      const ctx = ctxOf((await openSettings()).body);
      const res = await action('/placements/settings/action', { ctx, action: 'trash', confirm: 'yes' });
      expect(res.body).toContain('data-code="ACCESS_DENIED_DELETED"');
      expect(res.body).toContain('This portal uses a domain provider; sites cannot be deleted.');
    } finally {
      stack.emulator.setDomainProvider(memberId, false);
    }
  });

  it('saves app settings with app.option.set for admins; a non-admin is told why not', async () => {
    const adminCtx = ctxOf((await openSettings()).body);
    const saved = await action('/placements/settings/action', {
      ctx: adminCtx,
      action: 'options',
      offer_mainpage: 'yes',
      offer_catalog: 'yes',
    });
    expect(saved.body).toContain('App settings saved.');
    // Only the offered types are shown now.
    expect(saved.body).toContain('id="type_catalog"');
    expect(saved.body).not.toContain('id="type_personal"');
    const installation = (await stack.app.installations.find(memberId))!;
    expect(await stack.app.installations.getOptions(installation.id)).toEqual({
      offered_syspage_types: 'mainpage,catalog',
    });

    const user = stack.emulator.portal().userIds.find((id) => id !== stack.emulator.portal().adminUserId)!;
    const userCtx = ctxOf((await openSettings({ userId: user })).body);
    const refused = await action('/placements/settings/action', {
      ctx: userCtx,
      action: 'options',
      offer_cart: 'yes',
    });
    // Not offered to a non-administrator, and refused by us before the portal is asked (#21).
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('data-flash="error"');
    expect(refused.body).toContain('data-code="admin_only"');
    expect(await stack.app.installations.getOptions(installation.id)).toEqual({
      offered_syspage_types: 'mainpage,catalog',
    });
  });
});

describe('LANDING_BLOCK_* widget', () => {
  it('shows the block, its page and site, and makes the page special then asks for refreshBlock', async () => {
    const page = await stack.emulator.openPlacement(memberId, { placement: 'LANDING_BLOCK_*', blockId: 999 });
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-block-code>repo_1132<');
    expect(page.body).toContain('Catalog');
    expect(page.body).toContain('Demo Store');
    const res = await action('/placements/block/action', {
      ctx: ctxOf(page.body),
      action: 'make_special',
      type: 'catalog',
    });
    expect(res.body).toContain('data-flash="ok"');
    expect(res.body).toContain('data-refresh-block="999"');
    expect(JSON.stringify(stack.emulator.inspect(memberId).syspages)).toMatch(/catalog/);
  });

  it('is served for a configured LANDING_BLOCK_<CODE> placement in any letter case', async () => {
    const payload = await stack.emulator.openPlacement(memberId, {
      placement: 'LANDING_BLOCK_*',
      blockId: 996,
    });
    const body = payload.payload.body.map(([k, v]): [string, string] =>
      k === 'PLACEMENT' ? [k, 'landing_block_repo_1132'] : [k, v],
    );
    const res = await fetch(payload.payload.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    expect(res.status).toBe(200);
  });
});

describe('refusals', () => {
  async function openWith(
    change: (fields: [string, string][]) => [string, string][],
    path = '/placements/settings',
    query: Record<string, string> = {},
  ) {
    const page = await openSettings();
    const url = new URL(page.payload.action);
    url.pathname = path;
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(change(page.payload.body)).toString(),
    });
    return { status: res.status, body: await res.text() };
  }
  const set = (key: string, value: string) => (fields: [string, string][]) =>
    fields.map(([k, v]): [string, string] => [k, k === key ? value : v]);

  it('a PLACEMENT that does not match the route: 400', async () => {
    const res = await openWith((f) => f, '/placements/block');
    expect(res.status).toBe(400);
    expect(res.body).toContain('placement_mismatch');
  });

  it('bad JSON in PLACEMENT_OPTIONS: 400 naming it', async () => {
    const res = await openWith(set('PLACEMENT_OPTIONS', '{"SITE_ID":'));
    expect(res.status).toBe(400);
    expect(res.body).toContain('PLACEMENT_OPTIONS must be a JSON object');
  });

  it('an unknown portal: 403', async () => {
    const res = await openWith(set('member_id', '0000aaaa0000aaaa'));
    expect(res.status).toBe(403);
    expect(res.body).toContain('unknown_portal');
  });

  it('a known member_id with another DOMAIN, in the query or the body: 403', async () => {
    const inQuery = await openWith((f) => f, '/placements/settings', { DOMAIN: 'evil.example.com' });
    expect(inQuery.status).toBe(403);
    expect(inQuery.body).toContain('domain_mismatch');
    const inBody = await openWith((f) => [...f, ['DOMAIN', 'evil.example.com']]);
    expect(inBody.status).toBe(403);
    expect(inBody.body).toContain('domain_mismatch');
  });

  it('an AUTH_ID the portal does not know: 401, before anything is read', async () => {
    const page = await openSettings();
    const before = stack.emulator.stats.portal(memberId);
    const forged = page.payload.body.map(([k, v]): [string, string] => [
      k,
      k === 'AUTH_ID' ? 'forgedforgedforged0001' : v,
    ]);
    const res = await fetch(page.payload.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(forged).toString(),
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('invalid_user_token');
    const after = stack.emulator.stats.portal(memberId);
    // Only the verification was asked (one batch: user.current and user.admin); no data was
    // read with the forged token.
    expect(after.restRequests - before.restRequests).toBe(1);
    expect((after.restByMethod.batch ?? 0) - (before.restByMethod.batch ?? 0)).toBe(1);
  });

  it('verifies a user token once, then serves opens with it from the cache', async () => {
    // The installation lookup is kept 2 s from when it was read: read it afresh for this test.
    stack.app.recentInstallations.forget();
    const first = await openSettings();
    const calls = () => stack.emulator.stats.portal(memberId).restByMethod['user.current'] ?? 0;
    const batches = () => stack.emulator.stats.portal(memberId).restByMethod.batch ?? 0;
    const afterFirst = calls();
    const batchesAfterFirst = batches();
    const forUser = vi.spyOn(stack.app.clients, 'forUser');
    const findInStore = vi.spyOn(stack.app.installations, 'find');
    const again = await fetch(first.payload.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(first.payload.body).toString(),
    });
    expect(again.status).toBe(200);
    expect(calls()).toBe(afterFirst);
    // A warm reopen builds no REST client and, within seconds, does not read the installation again.
    expect(forUser).not.toHaveBeenCalled();
    expect(findInStore).not.toHaveBeenCalled();
    forUser.mockRestore();
    findInStore.mockRestore();
    // The page itself came from the view cache: the portal was not asked again.
    expect(batches()).toBe(batchesAfterFirst);
  });

  it('a forged or tampered form context: 403, nothing done', async () => {
    const ctx = ctxOf((await openSettings()).body);
    const [member, sealed] = ctx.split('.');
    expect(member).toBe(memberId);
    const bytes = Buffer.from(sealed!, 'base64url');
    bytes[20] = bytes[20]! ^ 1;
    const flipped = `${member}.${bytes.toString('base64url')}`;
    // The readable portal part is bound to the seal: naming another portal breaks it.
    const otherPortal = `x${ctx}`;
    const before = stack.emulator.inspect(memberId).sites;
    for (const bad of [flipped, otherPortal, `${member}.`, 'nonsense', '']) {
      const res = await action('/placements/settings/action', { ctx: bad, action: 'trash', confirm: 'yes' });
      expect(res.status).toBe(403);
      expect(res.body).toContain('invalid_context');
    }
    expect(stack.emulator.inspect(memberId).sites).toEqual(before);
  });
});

// Knowledge bases, group knowledge bases and the main page answer landing.* calls only with
// their `scope` (b24restdocs api-reference/landing/types.md): both widgets find the site's
// kind and pass it on every call.
describe('sites of every kind', () => {
  let kinds: Stack;
  let member: string;
  beforeAll(async () => {
    kinds = await startStack({
      emulator: {
        portals: [
          {
            sites: [
              ...DEMO_SITES,
              {
                id: 40,
                title: 'Handbook',
                code: 'handbook',
                type: 'KNOWLEDGE',
                pages: [
                  {
                    id: 40,
                    title: 'Welcome',
                    code: 'welcome',
                    blocks: [{ id: 1040, code: '27.one_col_fix_title_and_text_2' }],
                  },
                  { id: 41, title: 'Contact us', code: 'contact', blocks: [] },
                ],
              },
              {
                id: 50,
                title: 'Team wiki',
                code: 'team-wiki',
                type: 'GROUP',
                pages: [
                  {
                    id: 50,
                    title: 'Team home',
                    code: 'home',
                    blocks: [{ id: 1050, code: '04.1.one_col_fix_with_title' }],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    member = kinds.emulator.portal().memberId;
    await kinds.emulator.installApp(member, { lang: 'en' });
    kinds.emulator.finishInstall(member);
  });
  afterAll(async () => kinds?.close());

  const post = async (path: string, fields: Record<string, string>) => {
    const res = await fetch(`${kinds.appUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, body: await res.text() };
  };
  const settingsOf = (siteId: number, lang = 'en') =>
    kinds.emulator.openPlacement(member, { placement: 'LANDING_SETTINGS', siteId, lang });
  const syspagesOf = (siteId: number) =>
    kinds.emulator.inspect(member).syspages.filter((s: { siteId: number }) => s.siteId === siteId);

  it('settings on a knowledge base: its pages, its kind, and no shop pages, in every language', async () => {
    const page = await settingsOf(40);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Handbook');
    expect(page.body).toContain('data-site-kind="KNOWLEDGE"');
    expect(page.body).toMatch(/<option value="41">Contact us<\/option>/);
    expect(page.body).toContain('id="type_mainpage"');
    expect(page.body).toContain('id="type_feedback"');
    expect(page.body).not.toContain('id="type_catalog"');
    expect(page.body).toContain('data-shop-pages-unavailable');
    expect((await settingsOf(40, 'ru')).body).toContain('База знаний');
    expect((await settingsOf(40, 'de')).body).toContain('Wissensdatenbank');
    // An ordinary site's page is as before.
    const store = await settingsOf(30);
    expect(store.body).not.toContain('data-site-kind');
    expect(store.body).not.toContain('data-shop-pages-unavailable');
    expect(store.body).toContain('id="type_catalog"');
  });

  it('assigns a knowledge base’s special page in its scope', async () => {
    const ctx = ctxOf((await settingsOf(40)).body);
    const res = await post('/placements/settings/action', {
      ctx,
      action: 'syspages',
      type_mainpage: '40',
      type_feedback: '41',
      type_catalog: '40',
    });
    expect(res.body).toContain('data-flash="ok"');
    expect(res.body).toContain('Special page “Feedback” now opens page 41.');
    expect(syspagesOf(40)).toEqual([
      { siteId: 40, type: 'mainpage', landingId: 40 },
      { siteId: 40, type: 'feedback', landingId: 41 },
    ]);
    expect(res.body).toMatch(/data-special-url="feedback"/);
  });

  it('moves a group knowledge base to the trash and back in its scope', async () => {
    const page = await settingsOf(50);
    expect(page.body).toContain('data-site-kind="GROUP"');
    expect(page.body).toContain('Team home');
    const ctx = ctxOf(page.body);
    const trashed = await post('/placements/settings/action', { ctx, action: 'trash', confirm: 'yes' });
    expect(trashed.body).toContain('The site was moved to the trash.');
    expect(kinds.emulator.inspect(member).sites.find((s) => s.id === 50)?.deleted).toBe(true);
    const restored = await post('/placements/settings/action', { ctx, action: 'restore' });
    expect(restored.body).toContain('The site was restored from the trash.');
    expect(kinds.emulator.inspect(member).sites.find((s) => s.id === 50)?.deleted).toBe(false);
  });

  it('the block widget on a knowledge base page: block, page, site and kind; shop pages refused in words', async () => {
    const page = await kinds.emulator.openPlacement(member, { placement: 'LANDING_BLOCK_*', blockId: 1040 });
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-block-code>27.one_col_fix_title_and_text_2<');
    // The block itself was read (its name shown), not only echoed from PLACEMENT_OPTIONS.
    expect(page.body).toMatch(/data-block-id>1040 · \S/);
    expect(page.body).toContain('Welcome');
    expect(page.body).toContain('Handbook');
    expect(page.body).toContain('data-site-kind="KNOWLEDGE"');
    expect(page.body).not.toContain('<option value="catalog">');
    const ctx = ctxOf(page.body);
    const before = JSON.stringify(syspagesOf(40));
    const refused = await post('/placements/block/action', { ctx, action: 'make_special', type: 'catalog' });
    expect(refused.body).toContain('data-code="syspage_unavailable"');
    expect(refused.body).toContain(
      'Shop pages (catalog, personal account, cart, order, payment, comparison)',
    );
    expect(JSON.stringify(syspagesOf(40))).toBe(before);
    // Feedback opens page 41 (previous test); the block's page 40 takes it over.
    const done = await post('/placements/block/action', { ctx, action: 'make_special', type: 'feedback' });
    expect(done.body).toContain('data-flash="ok"');
    expect(done.body).toContain('data-refresh-block="1040"');
    expect(syspagesOf(40)).toContainEqual({ siteId: 40, type: 'feedback', landingId: 40 });
  });

  it('the block widget on a group knowledge base page', async () => {
    const page = await kinds.emulator.openPlacement(member, { placement: 'LANDING_BLOCK_*', blockId: 1050 });
    expect(page.body).toContain('data-block-code>04.1.one_col_fix_with_title<');
    expect(page.body).toMatch(/data-block-id>1050 · \S/);
    expect(page.body).toContain('Team wiki');
    expect(page.body).toContain('data-site-kind="GROUP"');
    const done = await post('/placements/block/action', {
      ctx: ctxOf(page.body),
      action: 'make_special',
      type: 'feedback',
    });
    expect(done.body).toContain('data-flash="ok"');
    expect(syspagesOf(50)).toEqual([{ siteId: 50, type: 'feedback', landingId: 50 }]);
  });
});
