// Widgets shaped by the user's rights: the portal says in the same request that verifies the
// user whether they administer it; admin-only parts are not offered to anyone else, and the
// server refuses them anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startInstalledStack } from '../helpers/stack.js';

const MEMBER = 'b1a2b3c4';
let stack: Stack;
beforeAll(async () => {
  stack = await startInstalledStack(MEMBER);
});
afterAll(async () => stack?.close());

const ctxOf = (page: string) => /name="ctx" value="([^"]+)"/.exec(page)?.[1] ?? '';

async function act(page: string, fields: Record<string, string>) {
  const res = await fetch(`${stack.appUrl}/placements/settings/action`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ctx: ctxOf(page), ...fields }).toString(),
  });
  return { status: res.status, body: await res.text() };
}

describe('rights-aware settings widget', () => {
  it('an administrator is offered the trash and the app settings; one request verifies them and loads the page', async () => {
    const before = stack.emulator.stats.portal(MEMBER).restRequests;
    const res = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('value="trash"');
    expect(res.body).toContain('value="options"');
    expect(res.body).not.toContain('data-admin-only-note');
    // Cold open in one round trip: user.current and user.admin ride in the view's own batch.
    expect(stack.emulator.stats.portal(MEMBER).restRequests - before).toBe(1);
  });

  it('any other user is not offered them, and is told who is', async () => {
    const res = await stack.emulator.openPlacement(MEMBER, {
      placement: 'LANDING_SETTINGS',
      userId: 2,
      lang: 'de',
    });
    expect(res.status).toBe(200);
    expect(res.body).not.toContain('value="trash"');
    expect(res.body).not.toContain('value="options"');
    expect(res.body).toContain('data-admin-only-note');
    expect(res.body).toContain('Portal-Administratoren');
    // What they may do stays: special pages.
    expect(res.body).toContain('value="syspages"');
  });

  it("refuses a non-administrator's forged trash or options form with 403 and changes nothing", async () => {
    const page = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS', userId: 2 });
    const siteId = Number(JSON.parse(page.payload.body.find(([k]) => k === 'PLACEMENT_OPTIONS')![1]).SITE_ID);
    const forms: Record<string, string>[] = [
      { action: 'trash', confirm: 'yes' },
      { action: 'options', offer_catalog: 'yes' },
      { action: 'restore' },
    ];
    for (const fields of forms) {
      const res = await act(page.body, fields);
      expect(res.status).toBe(403);
      expect(res.body).toContain('data-code="admin_only"');
      expect(res.body).toContain('Only a portal administrator can do this.');
    }
    expect(stack.emulator.inspect(MEMBER).sites.find((s) => s.id === siteId)?.deleted).toBe(false);
  });

  it('re-asks the portal: a context sealed for an administrator whose rights were taken is refused', async () => {
    const user = stack.emulator.issueTokens(MEMBER, 2);
    const page = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS', userId: 2 });
    const options = JSON.parse(page.payload.body.find(([k]) => k === 'PLACEMENT_OPTIONS')![1]) as Record<
      string,
      string
    >;
    const ctx = stack.app.pageContext.sign({
      memberId: MEMBER,
      placement: 'LANDING_SETTINGS',
      options: { SITE_ID: options.SITE_ID!, ...(options.LID && { LID: options.LID }) },
      lang: 'en',
      userAuth: user.access_token,
      userAuthExpiresAt: stack.emulator.clock.now() + 3_600_000,
      userId: 2,
      admin: true,
    });
    const res = await act(`name="ctx" value="${ctx}"`, { action: 'trash', confirm: 'yes' });
    expect(res.status).toBe(403);
    expect(res.body).toContain('data-code="admin_only"');
    expect(stack.emulator.inspect(MEMBER).sites.find((s) => s.id === Number(options.SITE_ID))?.deleted).toBe(
      false,
    );
  });
});
