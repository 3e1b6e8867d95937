// A warm widget open sends the page rendered before for the same view and sealed page context
// (placements/rendered-pages.ts). A kept page must never reach another user, portal, language
// or session, nor outlive the view it shows: after an action through us the page is new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderedPages } from '../../src/placements/rendered-pages.js';
import { type Stack, startInstalledStack } from '../helpers/stack.js';

describe('RenderedPages', () => {
  const key = { page: 'settings', memberId: 'm1', userId: 1, token: 'm1.sealed-a' };

  it('renders once per view object and key; another view object (reloaded, invalidated) renders again', async () => {
    const pages = new RenderedPages();
    let renders = 0;
    const render = async () => `<p>page ${++renders}</p>`;
    const view = { site: 'Demo' };
    expect(String(await pages.get(key, view, render))).toBe('<p>page 1</p>');
    expect(String(await pages.get(key, view, render))).toBe('<p>page 1</p>');
    expect(String(await pages.get(key, { site: 'Demo' }, render))).toBe('<p>page 2</p>');
    expect(renders).toBe(2);
  });

  it('another portal, user, page or sealed context never gets the kept page', async () => {
    const pages = new RenderedPages();
    const view = { site: 'Demo' };
    await pages.get(key, view, async () => 'first');
    const others = [
      { ...key, memberId: 'm2' },
      { ...key, userId: 2 },
      { ...key, page: 'block' },
      { ...key, token: 'm1.sealed-b' },
    ];
    const answers = [];
    for (const other of others) answers.push(String(await pages.get(other, view, async () => 'own')));
    expect(answers).toEqual(['own', 'own', 'own', 'own']);
    expect(pages.size).toBe(5);
  });

  it('holds at most maxEntries pages, the oldest dropped first', async () => {
    const pages = new RenderedPages(2);
    const view = {};
    for (const token of ['a', 'b', 'c']) await pages.get({ ...key, token }, view, async () => token);
    expect(pages.size).toBe(2);
    expect(String(await pages.get({ ...key, token: 'a' }, view, async () => 'again'))).toBe('again');
  });
});

describe('warm widget opens over HTTP', () => {
  let stack: Stack;
  const memberId = 'rendered-pages';
  beforeAll(async () => {
    stack = await startInstalledStack(memberId);
  });
  afterAll(async () => stack?.close());

  /** The portal's POST for one user, to be sent again as a reopen (same AUTH_ID) would be. */
  async function widgetPost(userId: number) {
    const open = await stack.emulator.openPlacement(memberId, {
      placement: 'LANDING_SETTINGS',
      siteId: 30,
      userId,
    });
    expect(open.status).toBe(200);
    const url = new URL(open.payload.action);
    return { url, body: new URLSearchParams(open.payload.body).toString() };
  }

  async function post(
    request: { url: URL; body: string },
    path = `${request.url.pathname}${request.url.search}`,
  ) {
    const res = await fetch(`${stack.appUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: request.body,
    });
    return { status: res.status, type: res.headers.get('content-type'), html: await res.text() };
  }

  const ctxOf = (html: string) => /name="ctx" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const isAdminPage = (html: string) => html.includes('value="trash"');
  const selectedMainpage = (html: string) =>
    /<select id="type_mainpage"[^>]*>([\s\S]*?)<\/select>/
      .exec(html)?.[1]
      ?.match(/value="(\d*)" selected/)?.[1] ?? '';

  it('a reopen gets its own user’s page, in its own language, as text/html', async () => {
    const admin = await widgetPost(1);
    const user = await widgetPost(2);
    const first = [await post(admin), await post(user)];
    const again = [await post(admin), await post(user), await post(admin)];
    expect(first.map((p) => [p.status, p.type, isAdminPage(p.html)])).toEqual([
      [200, 'text/html; charset=utf-8', true],
      [200, 'text/html; charset=utf-8', false],
    ]);
    expect(again.map((p) => p.html)).toEqual([first[0]!.html, first[1]!.html, first[0]!.html]);
    expect(ctxOf(first[0]!.html)).not.toBe(ctxOf(first[1]!.html));

    // The same session and view in another language: another sealed context, another page.
    const query = new URLSearchParams(admin.url.search);
    query.set('LANG', 'de');
    const german = await post(admin, `${admin.url.pathname}?${query}`);
    expect(german.html).toContain('Website-Einstellungen');
    expect(ctxOf(german.html)).not.toBe(ctxOf(first[0]!.html));
    expect((await post(admin)).html).toBe(first[0]!.html);
  });

  it('after an action through us, a reopen shows the portal’s new state, not the kept page', async () => {
    const admin = await widgetPost(1);
    const before = await post(admin);
    expect((await post(admin)).html).toBe(before.html);
    const other = selectedMainpage(before.html) === '31' ? '32' : '31';
    const acted = await post(
      {
        url: admin.url,
        body: new URLSearchParams({
          ctx: ctxOf(before.html),
          action: 'syspages',
          type_mainpage: other,
        }).toString(),
      },
      '/placements/settings/action',
    );
    expect(acted.status).toBe(200);
    const after = await post(admin);
    expect(selectedMainpage(after.html)).toBe(other);
    expect(after.html).not.toBe(before.html);
  });
});
