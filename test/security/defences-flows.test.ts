// Two paths no other suite walked (issue #18), over real HTTP with the emulated portal: the
// portal refusing the block widget's action, and an ONAPPINSTALL event without a refresh token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translator } from '../../src/i18n.js';
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
const decode = (s: string) =>
  s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

async function post(path: string, body: string) {
  const res = await fetch(`${stack.appUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('the portal refuses the block action', () => {
  it('a user with read-only rights: the page says so in words, nothing changes, no block refresh', async () => {
    // User 2 has the View right on Sites only (emulator seed): landing.syspage.set answers
    // ACCESS_DENIED (api-reference/landing/page/special-pages/landing-syspage-set.md).
    const page = await stack.emulator.openPlacement(memberId, {
      placement: 'LANDING_BLOCK_*',
      blockId: 999,
      userId: 2,
    });
    expect(page.status).toBe(200);
    const before = stack.emulator.inspect(memberId).syspages;
    const res = await post(
      '/placements/block/action',
      new URLSearchParams({ ctx: ctxOf(page.body), action: 'make_special', type: 'catalog' }).toString(),
    );
    expect(res.status).toBe(200);
    const flash = /<div class="flash flash--(\w+)"[^>]*data-code="([^"]+)">\s*([^<]*?)\s*<\/div>/.exec(
      res.text,
    );
    expect(flash?.slice(1)).toEqual(['error', 'ACCESS_DENIED', expect.any(String)]);
    expect(decode(flash![3]!)).toBe(translator('en')('b24.ACCESS_DENIED'));
    expect(res.text).not.toContain('data-refresh-block');
    expect(stack.emulator.inspect(memberId).syspages).toEqual(before);
  });
});

describe('ONAPPINSTALL without a refresh token', () => {
  it('is acknowledged as ignored and stores nothing', async () => {
    const stranger = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
    const body = new URLSearchParams({
      event: 'ONAPPINSTALL',
      'data[LANGUAGE_ID]': 'en',
      'auth[access_token]': 'a'.repeat(32),
      'auth[domain]': 'stranger.example.com',
      'auth[member_id]': stranger,
      'auth[application_token]': 'b'.repeat(32),
      'auth[client_endpoint]': 'https://stranger.example.com/rest/',
    }).toString();
    const res = await post('/events', body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ result: 'ignored', reason: 'no refresh token in the event' });
    expect(await stack.app.installations.find(stranger)).toBeNull();
    expect(await stack.testDb.db.installation.count({ where: { memberId: stranger } })).toBe(0);
  });
});
