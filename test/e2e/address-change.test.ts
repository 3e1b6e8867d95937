// A portal's address changes (member_id survives a rename; DOMAIN and client endpoint do not).
// A page naming the new address is believed only once the OAuth server names it for the
// installation's member_id; then the installation is re-pinned and keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startInstalledStack } from '../helpers/stack.js';

const MEMBER = 'ad0d0e55';
let stack: Stack;

beforeAll(async () => {
  stack = await startInstalledStack(MEMBER);
});
afterAll(async () => stack?.close());

describe('portal address changes', () => {
  it('refuses a page naming an address the OAuth server does not confirm, refreshing at most once', async () => {
    const genuine = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
    expect(genuine.status).toBe(200);
    const forged = genuine.payload.body.map(([k, v]): [string, string] => [k, v]);
    const action = new URL(genuine.payload.action);
    action.searchParams.set('DOMAIN', 'evil.example.com');
    const refreshes = stack.emulator.stats.snapshot().oauth.refreshRequests;
    for (let i = 0; i < 4; i++) {
      // Ever new addresses, as a forger would send them.
      action.searchParams.set('DOMAIN', `evil${i}.example.com`);
      const res = await fetch(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(forged).toString(),
      });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('domain_mismatch');
    }
    // One forced refresh asked the OAuth server; then the portal is not asked again for a while,
    // whatever address a page names.
    expect(stack.emulator.stats.snapshot().oauth.refreshRequests - refreshes).toBe(1);
    const installation = await stack.app.installations.find(MEMBER);
    expect(installation?.domain).toBe(stack.emulator.portal(MEMBER).domain);
  });

  it('re-pins after a rename once the OAuth server names the new address, and the widget works there', async () => {
    const before = (await stack.app.installations.find(MEMBER))!;
    // Past the 5 minutes in which the refused address above keeps the portal from being asked.
    stack.emulator.clock.advance(5 * 60 + 1);
    const renamed = await stack.emulator.renamePortal(MEMBER);
    expect(renamed.domain).not.toBe(before.domain);
    const res = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain(`frame-ancestors http://${renamed.domain}`);
    const after = (await stack.app.installations.find(MEMBER))!;
    expect(after).toMatchObject({
      domain: renamed.domain,
      clientEndpoint: renamed.clientEndpoint,
      status: 'active',
    });
    // The installation's own calls now go to the new address.
    const info = await stack.app.clients.forInstallation(after).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);
    expect(stack.logs.text).toContain('portal address changed: installation re-pinned');
  });
});
