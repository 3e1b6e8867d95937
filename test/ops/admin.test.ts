// /admin over real HTTP: off without ADMIN_TOKEN, refuses without the token, and with it shows
// the installations, runs check and rebind on a portal, and lists recent errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { MEMBER_IDS, type OpsStack, startOpsStack } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const [first, second] = MEMBER_IDS as [string, string];

describe('admin page off', () => {
  it('answers 404 when ADMIN_TOKEN is not set', async () => {
    const testDb = await createTestDatabase();
    const { app } = await buildTestApp(testDb);
    try {
      for (const [method, url] of [
        ['GET', '/admin'],
        ['POST', '/admin'],
        ['POST', '/admin/check'],
        ['POST', '/admin/rebind'],
      ] as const) {
        const res = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
    } finally {
      await app.close();
      await testDb.close();
    }
  });
});

describe('admin page on', () => {
  let stack: OpsStack;
  beforeAll(async () => {
    stack = await startOpsStack({ portals: [first, second], env: { ADMIN_TOKEN } });
  });
  afterAll(async () => stack?.close());

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const get = (headers: Record<string, string> = {}) => fetch(`${stack.appUrl}/admin`, { headers });
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${stack.appUrl}${path}`, form(fields));

  it('refuses without the token, with a login form and no cookie', async () => {
    const res = await get();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).toContain('name="token"');
    expect(html).not.toContain(first);
  });

  it('refuses a wrong token, as a header or in the form', async () => {
    expect((await get({ authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    const res = await post('/admin', { token: 'wrong-token-wrong-token' });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('data-admin-refused');
    expect((await post('/admin/check', { portal: first })).status).toBe(401);
    expect((await post('/admin/rebind', { token: `${ADMIN_TOKEN}x`, portal: first })).status).toBe(401);
  });

  it('with the bearer token shows every installation, framed by nobody, not cached', async () => {
    const res = await get({ authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('/static/app.css');
    for (const memberId of [first, second]) {
      expect(html).toContain(`data-member-id="${memberId}"`);
      expect(html).toContain(stack.emulator.portal(memberId).domain);
    }
    // A bearer header is sent again by whoever sent it: the forms do not carry the token.
    expect(html).not.toContain(ADMIN_TOKEN);
  });

  it('with the token typed into the form, every action form carries it', async () => {
    const res = await post('/admin', { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    const html = await res.text();
    const tokenFields = html.match(new RegExp(`name="token" value="${ADMIN_TOKEN}"`, 'g')) ?? [];
    expect(tokenFields).toHaveLength(4); // check and rebind for each of the two portals
  });

  it('check: ok for a working portal, needs_reinstall for a revoked one (also listed under errors)', async () => {
    const ok = await post('/admin/check', { token: ADMIN_TOKEN, portal: first });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(
      /data-flash="ok"[^>]*>\s*127\.0\.0\.1:\d+: the portal accepts the stored tokens/,
    );

    stack.emulator.revokeApp(second);
    const revoked = await post('/admin/check', { token: ADMIN_TOKEN, portal: second });
    expect(revoked.status).toBe(200);
    const html = await revoked.text();
    expect(html).toContain('data-code="needs_reinstall"');
    expect(html).toMatch(
      new RegExp(`data-member-id="${second}">[\\s\\S]*?<td data-status>needs_reinstall</td>`),
    );
    expect(html).toMatch(/data-admin-failing[\s\S]*invalid_grant/);
    expect((await stack.app.installations.find(second))?.status).toBe('needs_reinstall');
  });

  it('rebind: binds the current handlers again on that portal', async () => {
    const before = stack.emulator.stats.portal(first).restByMethod.batch ?? 0;
    const res = await post('/admin/rebind', { token: ADMIN_TOKEN, portal: first });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(
      /data-flash="ok"[^>]*>\s*[^<]*3 handler\(s\) bound to http:\/\/127\.0\.0\.1/,
    );
    expect(stack.emulator.stats.portal(first).restByMethod.batch).toBe(before + 1);
    const refused = await post('/admin/rebind', { token: ADMIN_TOKEN, portal: second });
    expect(await refused.text()).toContain('only active portals are rebound');
    const unknown = await post('/admin/check', { token: ADMIN_TOKEN, portal: 'nosuchportal' });
    expect(await unknown.text()).toContain('No installation with member_id nosuchportal');
  });

  it('lists recent request errors (codes only)', async () => {
    const bad = await fetch(`${stack.appUrl}/install`, form({ DOMAIN: 'x' }));
    expect(bad.status).toBe(400);
    const html = await (await get({ authorization: `Bearer ${ADMIN_TOKEN}` })).text();
    expect(html).toMatch(/data-admin-recent[\s\S]*<code>POST \/install<\/code>/);
  });
});
