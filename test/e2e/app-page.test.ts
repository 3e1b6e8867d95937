// The app's own page (POST /, PLACEMENT=DEFAULT) as the portal opens it: an administrator sees
// the installation's state and can re-sync its bindings; anyone else sees what the app does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startInstalledStack } from '../helpers/stack.js';

const MEMBER = 'a99a99a9';
let stack: Stack;

beforeAll(async () => {
  stack = await startInstalledStack(MEMBER);
});
afterAll(async () => stack?.close());

/** Posts our own form from a rendered page, as the browser does. */
async function submit(page: string, action: string, fields: Record<string, string>) {
  const ctx = /name="ctx" value="([^"]+)"/.exec(page)?.[1];
  expect(ctx).toBeTruthy();
  const res = await fetch(`${stack.appUrl}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ctx: ctx!, ...fields }).toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const presence = (page: string) =>
  Object.fromEntries(
    [...page.matchAll(/data-binding="([^"]+)" data-present="([^"]+)"/g)].map((m) => [m[1], m[2]]),
  );

describe('the app page', () => {
  it('GET / answers a plain visit with a short page', async () => {
    const res = await fetch(`${stack.appUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('backend of a Bitrix24 Sites app');
  });

  it("shows an administrator the installation's state, licence and every binding present", async () => {
    const res = await stack.emulator.openApp(MEMBER, { lang: 'en' });
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain(
      `frame-ancestors http://${stack.emulator.portal(MEMBER).domain}`,
    );
    expect(res.body).toContain('data-admin-state');
    expect(res.body).toMatch(/data-status>active</);
    expect(res.body).toContain('working; current token valid until');
    expect(res.body).toMatch(/data-licence>L\b/);
    expect(presence(res.body)).toEqual({
      LANDING_SETTINGS: 'true',
      'LANDING_BLOCK_*': 'true',
      ONAPPUNINSTALL: 'true',
    });
  });

  it('shows any other user what the app does and where, without the admin section', async () => {
    const res = await stack.emulator.openApp(MEMBER, { userId: 2, lang: 'de' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('lang="de"');
    expect(res.body).toContain('Website-Editor');
    expect(res.body).not.toContain('data-admin-state');
    expect(res.body).not.toContain('data-resync');
  });

  it('lets an administrator re-sync a binding that went missing on the portal', async () => {
    const installation = (await stack.app.installations.find(MEMBER))!;
    await stack.app.clients
      .forInstallation(installation)
      .landing.repo.unbind({ code: 'LANDING_SETTINGS', handler: `${stack.appUrl}/placements/settings` });
    const page = await stack.emulator.openApp(MEMBER);
    expect(presence(page.body).LANDING_SETTINGS).toBe('false');
    const res = await submit(page.body, '/app/action', { action: 'resync' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('data-flash="ok"');
    expect(presence(res.body).LANDING_SETTINGS).toBe('true');
    expect(
      stack.emulator.inspect(MEMBER).apps[0]!.placements.some((p) => p.placement === 'LANDING_SETTINGS'),
    ).toBe(true);
  });

  it("refuses a non-administrator's forged re-sync with 403 and rebinds nothing", async () => {
    const installation = (await stack.app.installations.find(MEMBER))!;
    await stack.app.clients
      .forInstallation(installation)
      .landing.repo.unbind({ code: 'LANDING_SETTINGS', handler: `${stack.appUrl}/placements/settings` });
    const page = await stack.emulator.openApp(MEMBER, { userId: 2 });
    // The page offers them no form; a context genuinely issued to them, even one saying they
    // were an administrator when it was sealed, stands in for one kept from an older page.
    expect(page.body).not.toContain('name="ctx"');
    const user = stack.emulator.issueTokens(MEMBER, 2);
    const ctx = stack.app.pageContext.sign({
      memberId: MEMBER,
      placement: 'DEFAULT',
      options: {},
      lang: 'en',
      userAuth: user.access_token,
      userAuthExpiresAt: stack.emulator.clock.now() + 3_600_000,
      userId: 2,
      admin: true,
    });
    const batches = stack.emulator.stats.portal(MEMBER).restByMethod.batch ?? 0;
    const res = await submit(`name="ctx" value="${ctx}"`, '/app/action', { action: 'resync' });
    expect(res.status).toBe(403);
    expect(res.body).toContain('data-code="admin_only"');
    expect(res.body).toContain('Only a portal administrator can do this.');
    expect(
      stack.emulator.inspect(MEMBER).apps[0]!.placements.some((p) => p.placement === 'LANDING_SETTINGS'),
    ).toBe(false);
    // Only the page's own read batch went out; no bind batch.
    expect((stack.emulator.stats.portal(MEMBER).restByMethod.batch ?? 0) - batches).toBe(1);
  });
});
