// An uninstall that could not be proven leaves the portal `uninstall_reported` with all its
// data; the operator's word (CLI `purge`, the admin page) deletes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, MEMBER_IDS, type OpsStack, startOpsStack } from './helpers.js';

const [first, second] = MEMBER_IDS as [string, string];
const ADMIN_TOKEN = 'purge-admin-token-0123456789';

let stack: OpsStack;
beforeAll(async () => {
  stack = await startOpsStack({ portals: [first, second], env: { ADMIN_TOKEN } });
  for (const memberId of [first, second]) {
    const installation = (await stack.app.installations.find(memberId))!;
    await stack.app.installations.setStatus(installation.id, 'uninstall_reported', 'ONAPPUNINSTALL unproven');
  }
});
afterAll(async () => stack?.close());

const rowsOf = async (memberId: string) => ({
  installation: await stack.testDb.db.installation.count({ where: { memberId } }),
  tokens: await stack.testDb.db.oAuthToken.count({ where: { installation: { memberId } } }),
  bindings: await stack.testDb.db.binding.count({ where: { installation: { memberId } } }),
});

describe('purge', () => {
  it('npm run cli -- purge --portal deletes every row of that portal only', async () => {
    expect(await rowsOf(first)).toEqual({ installation: 1, tokens: 1, bindings: 3 });
    const run = await cli(stack, ['purge', '--portal', first]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`purged portal ${first}`);
    expect(await rowsOf(first)).toEqual({ installation: 0, tokens: 0, bindings: 0 });
    expect((await rowsOf(second)).installation).toBe(1);
    const again = await cli(stack, ['purge', '--portal', first]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no installation with member_id ${first}`);
  });

  it('the admin page offers purge for an uninstall_reported portal and deletes it on the click', async () => {
    const page = await fetch(`${stack.appUrl}/admin`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const html = await page.text();
    expect(html).toContain('action="/admin/purge"');
    const res = await fetch(`${stack.appUrl}/admin/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, portal: second }).toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('all of its data was deleted');
    expect(await rowsOf(second)).toEqual({ installation: 0, tokens: 0, bindings: 0 });
  });

  it('refuses a purge without the admin token', async () => {
    const res = await fetch(`${stack.appUrl}/admin/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'wrong-token-wrong-token', portal: second }).toString(),
    });
    expect(res.status).toBe(401);
  });
});
