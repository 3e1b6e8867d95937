// AUTH_EXPIRES through the whole widget flow (issue #18): the lifetime the portal posts with a
// user's token is what the verified-user cache keeps the token for, to the millisecond, on the
// app's clock. caches.test.ts proves the cache honours the expiry it is given; this proves a
// widget open gives it AUTH_EXPIRES. Date is faked (timers are not): the widget context reads
// Date.now, the cache the app's injected clock (the emulator's, on Date.now), so both move together.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserTokenVerifier } from '../../src/placements/user-verifier.js';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

const TTL_SECONDS = 120;
let stack: Stack;
let memberId: string;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  stack = await startStack({ emulator: { accessTokenTtl: TTL_SECONDS } });
  memberId = stack.emulator.portal().memberId;
  expect((await stack.emulator.installApp(memberId)).status).toBe(200);
  stack.emulator.finishInstall(memberId);
});
afterAll(async () => {
  await stack?.close();
  vi.useRealTimers();
});

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

/** The real verifier, recording the expiry each open hands it and each time it asks the portal. */
function watchVerifier(verifier: UserTokenVerifier) {
  const seen = { expiries: [] as number[], asked: 0 };
  const verify = verifier.verify.bind(verifier);
  vi.spyOn(verifier, 'verify').mockImplementation((member, authId, expiresAt, userClient, identifyWith) => {
    seen.expiries.push(expiresAt);
    return verify(member, authId, expiresAt, userClient, async () => {
      seen.asked += 1;
      return identifyWith!();
    });
  });
  return seen;
}

describe('a widget user’s token is trusted for exactly AUTH_EXPIRES', () => {
  it('verified once, kept until AUTH_EXPIRES seconds after the open, then asked again', async () => {
    const seen = watchVerifier(stack.app.userVerifier);
    const openedAt = Date.now();
    expect(stack.emulator.clock.now()).toBe(openedAt);
    const page = await stack.emulator.openPlacement(memberId, { placement: 'LANDING_SETTINGS' });
    expect(page.status).toBe(200);
    expect(page.payload.body).toContainEqual(['AUTH_EXPIRES', String(TTL_SECONDS)]);
    expect(seen).toEqual({ expiries: [openedAt + TTL_SECONDS * 1000], asked: 1 });

    // The same frame reloaded just before the token ends: the cached verification stands.
    advance(TTL_SECONDS * 1000 - 1);
    expect((await resubmit(page.payload)).status).toBe(200);
    expect(seen.asked).toBe(1);

    // At its end the portal is asked again, and it no longer accepts the token.
    advance(1);
    const expired = await resubmit(page.payload);
    expect(seen.asked).toBe(2);
    expect(expired.status).toBe(401);
    expect(/<code>([^<]+)<\/code>/.exec(expired.body)?.[1]).toBe('invalid_user_token');
  });
});
