// Every bounded in-process cache at its expiry and at its size limit (issue #18), on an injected
// clock: the verified-user cache (AUTH_EXPIRES, at most an hour), the view cache (TTL, stale
// window), recent installations (TTL, unknown portals never kept) and the sealed-context reuse.
import { describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import { AccessError, AuthError, TransientError } from '../../src/bitrix24/errors.js';
import { RecentInstallations } from '../../src/installations/recent-installations.js';
import type { Installation } from '../../src/installations/types.js';
import { type PageContext, PageContextSigner } from '../../src/placements/page-context.js';
import { UserTokenVerifier } from '../../src/placements/user-verifier.js';
import { ViewCache } from '../../src/placements/view-cache.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/**
 * A user client answering the verifier's one batch (user.current and user.admin) with user `id`
 * (or with `__me` failing as the thrown error does), counting the requests.
 */
function users(answer: () => number, admin = false) {
  const calls = { count: 0 };
  const client = () =>
    ({
      rest: {
        batch: async () => {
          calls.count += 1;
          try {
            return { result: { __me: { ID: String(answer()) }, __admin: admin }, errors: {} };
          } catch (error) {
            return { result: {}, errors: { __me: error } };
          }
        },
      },
    }) as unknown as Bitrix24Client;
  return { client, calls };
}

describe('verified users (UserTokenVerifier)', () => {
  it('keeps a verified token until its AUTH_EXPIRES, not a millisecond longer', async () => {
    const clock = manualClock();
    const verifier = new UserTokenVerifier(100, clock.now);
    const { client, calls } = users(() => 5);
    const expiresAt = clock.now() + 30_000;
    expect(await verifier.verify('m', 'tok', expiresAt, client)).toMatchObject({ userId: 5, admin: false });
    clock.advance(29_999);
    await verifier.verify('m', 'tok', expiresAt, client);
    expect(calls.count).toBe(1);
    clock.advance(1);
    await verifier.verify('m', 'tok', expiresAt, client);
    expect(calls.count).toBe(2);
  });

  it('the administrator flag is cached with the user, and only a real true makes one', async () => {
    const verifier = new UserTokenVerifier(100, manualClock().now);
    const admin = users(() => 1, true);
    expect(await verifier.verify('m', 'admin-tok', Number.MAX_SAFE_INTEGER, admin.client)).toMatchObject({
      userId: 1,
      admin: true,
    });
    expect(await verifier.verify('m', 'admin-tok', Number.MAX_SAFE_INTEGER, admin.client)).toMatchObject({
      admin: true,
    });
    expect(admin.calls.count).toBe(1);
    const truthy = users(() => 2, 'Y' as unknown as boolean);
    expect((await verifier.verify('m', 'other', Number.MAX_SAFE_INTEGER, truthy.client)).admin).toBe(false);
  });

  it('keeps a long-lived token at most one hour', async () => {
    const clock = manualClock();
    const verifier = new UserTokenVerifier(100, clock.now);
    const { client, calls } = users(() => 5);
    const expiresAt = clock.now() + 24 * 3600_000;
    await verifier.verify('m', 'tok', expiresAt, client);
    clock.advance(3600_000 - 1);
    await verifier.verify('m', 'tok', expiresAt, client);
    expect(calls.count).toBe(1);
    clock.advance(1);
    await verifier.verify('m', 'tok', expiresAt, client);
    expect(calls.count).toBe(2);
  });

  it('a token is verified per portal: the same AUTH_ID on another portal is asked again', async () => {
    const verifier = new UserTokenVerifier(100, manualClock().now);
    const { client, calls } = users(() => 5);
    const a = await verifier.verify('portal-a', 'tok', Number.MAX_SAFE_INTEGER, client);
    const b = await verifier.verify('portal-b', 'tok', Number.MAX_SAFE_INTEGER, client);
    expect(calls.count).toBe(2);
    expect(a.sessionKey).not.toBe(b.sessionKey);
    expect(a.sessionKey).not.toContain('tok');
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const verifier = new UserTokenVerifier(3, manualClock().now);
    const { client, calls } = users(() => 5);
    const verify = (token: string) => verifier.verify('m', token, Number.MAX_SAFE_INTEGER, client);
    for (const token of ['t1', 't2', 't3']) await verify(token);
    await verify('t1'); // used again: now the newest
    await verify('t4'); // evicts t2, the least recently used
    expect(verifier.size).toBe(3);
    expect(calls.count).toBe(4);
    await verify('t1');
    await verify('t3');
    await verify('t4');
    expect(calls.count).toBe(4);
    await verify('t2');
    expect(calls.count).toBe(5);
  });

  it('a token the portal rejects (auth or access) is 401 invalid_user_token and never cached', async () => {
    for (const Rejection of [AuthError, AccessError]) {
      const verifier = new UserTokenVerifier(10, manualClock().now);
      const rejection = new Rejection({ code: 'x', status: 401, description: '', method: 'user.current' });
      const { client } = users(() => {
        throw rejection;
      });
      await expect(verifier.verify('m', 't', Number.MAX_SAFE_INTEGER, client)).rejects.toMatchObject({
        statusCode: 401,
        code: 'invalid_user_token',
      });
      expect(verifier.size).toBe(0);
    }
    const verifier = new UserTokenVerifier(10, manualClock().now);
    const busy = new TransientError({
      code: 'HTTP_503',
      status: 503,
      description: '',
      method: 'user.current',
    });
    const { client } = users(() => {
      throw busy;
    });
    await expect(verifier.verify('m', 't', Number.MAX_SAFE_INTEGER, client)).rejects.toBe(busy);
  });
});

describe('views (ViewCache)', () => {
  it('fresh for 10 s, then shown stale for 10 s while one reload runs, then waited for', async () => {
    const clock = manualClock();
    const cache = new ViewCache({ now: clock.now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('m', 1, 'v', load)).toBe(1);
    clock.advance(9_999);
    expect(await cache.get('m', 1, 'v', load)).toBe(1);
    expect(loads).toBe(1);
    clock.advance(1); // TTL over: the stale value at once, a reload behind it
    expect(await cache.get('m', 1, 'v', load)).toBe(1);
    expect(loads).toBe(2);
    expect(await cache.get('m', 1, 'v', load)).toBe(2);
    clock.advance(19_999); // 10 s fresh + 9.999 s of the stale window after the reload
    expect(await cache.get('m', 1, 'v', load)).toBe(2);
    expect(loads).toBe(3);
    await Promise.resolve();
    clock.advance(20_000); // past fresh and stale: the open waits for a new load
    const before = loads;
    expect(await cache.get('m', 1, 'v', load)).toBe(before + 1);
  });

  it('holds at most maxEntries views', async () => {
    const cache = new ViewCache({ maxEntries: 2, now: manualClock().now });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('m', 1, 'a', load);
    await cache.get('m', 1, 'b', load);
    await cache.get('m', 1, 'c', load);
    expect(cache.size).toBe(2);
    await cache.get('m', 1, 'a', load);
    expect(loads).toBe(4);
  });

  it('an action on a portal drops its views, not another portal’s; views are per user', async () => {
    const cache = new ViewCache({ now: manualClock().now });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('m1', 1, 'v', load);
    await cache.get('m2', 1, 'v', load);
    await cache.get('m1', 2, 'v', load);
    expect(loads).toBe(3);
    cache.invalidate('m1');
    await cache.get('m2', 1, 'v', load);
    expect(loads).toBe(3);
    await cache.get('m1', 1, 'v', load);
    expect(loads).toBe(4);
  });

  it('past maxEntries invalidated portals it starts afresh, so no old view comes back', async () => {
    const cache = new ViewCache({ maxEntries: 2, now: manualClock().now });
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('m1', 1, 'v', load);
    cache.invalidate('a');
    cache.invalidate('b');
    expect(cache.size).toBe(1);
    cache.invalidate('c'); // two generations kept: both maps are cleared
    expect(cache.size).toBe(0);
    await cache.get('m1', 1, 'v', load);
    expect(loads).toBe(2);
  });
});

describe('recent installations', () => {
  const installation = (memberId: string) => ({ memberId }) as Installation;

  it('keeps a found installation for 2 s exactly; unknown portals are never kept', async () => {
    const clock = manualClock();
    const asked: string[] = [];
    const store = {
      find: async (memberId: string) => {
        asked.push(memberId);
        return memberId.startsWith('known') ? installation(memberId) : null;
      },
    };
    const recent = new RecentInstallations(store, undefined, undefined, clock.now);
    await recent.find('known-1');
    clock.advance(1_999);
    await recent.find('known-1');
    expect(asked).toEqual(['known-1']);
    clock.advance(1);
    await recent.find('known-1');
    expect(asked).toEqual(['known-1', 'known-1']);
    expect(await recent.find('nobody')).toBeNull();
    expect(await recent.find('nobody')).toBeNull();
    expect(asked.filter((m) => m === 'nobody')).toHaveLength(2);
    expect(recent.size).toBe(1);
  });

  it('holds at most maxEntries installations; forget drops them all', async () => {
    const asked: string[] = [];
    const store = {
      find: async (memberId: string) => {
        asked.push(memberId);
        return installation(memberId);
      },
    };
    const recent = new RecentInstallations(store, 60_000, 2, manualClock().now);
    for (const m of ['known-a', 'known-b', 'known-c']) await recent.find(m);
    expect(recent.size).toBe(2);
    await recent.find('known-a');
    expect(asked).toEqual(['known-a', 'known-b', 'known-c', 'known-a']);
    recent.forget();
    expect(recent.size).toBe(0);
  });
});

describe('sealed page contexts', () => {
  const context = (userAuthExpiresAt: number): PageContext => ({
    memberId: 'member1',
    placement: 'LANDING_SETTINGS',
    options: { SITE_ID: '30' },
    lang: 'en',
    userAuth: 'user-token',
    userAuthExpiresAt,
    userId: 1,
  });

  it('a context is handed out again for one minute, then sealed afresh', () => {
    const clock = manualClock();
    const signer = new PageContextSigner('server-secret-of-at-least-some-length', undefined, clock.now);
    const ctx = context(clock.now() + 3600_000);
    const first = signer.signReusable(ctx, 'session|page');
    clock.advance(59_999);
    expect(signer.signReusable(ctx, 'session|page')).toBe(first);
    expect(signer.signReusable(ctx, 'other|page')).not.toBe(first);
    clock.advance(1);
    expect(signer.signReusable(ctx, 'session|page')).not.toBe(first);
  });

  it('keeps at most 10,000 reusable contexts: the oldest is sealed afresh', () => {
    const signer = new PageContextSigner(
      'server-secret-of-at-least-some-length',
      undefined,
      manualClock().now,
    );
    const ctx = context(Number.MAX_SAFE_INTEGER);
    const first = signer.signReusable(ctx, 'key-0');
    const second = signer.signReusable(ctx, 'key-1');
    for (let i = 2; i < 10_000; i += 1) signer.signReusable(ctx, `key-${i}`);
    expect(signer.signReusable(ctx, 'key-0')).toBe(first); // 10,000 kept
    signer.signReusable(ctx, 'key-10000'); // the 10,001st evicts the oldest, key-0
    expect(signer.signReusable(ctx, 'key-1')).toBe(second);
    expect(signer.signReusable(ctx, 'key-0')).not.toBe(first);
  });

  it('expires with the user token or after the TTL, whichever is first', () => {
    const clock = manualClock();
    const signer = new PageContextSigner('server-secret-of-at-least-some-length', 60_000, clock.now);
    const short = signer.sign(context(clock.now() + 10_000));
    const long = signer.sign(context(clock.now() + 3600_000));
    clock.advance(10_000);
    expect(signer.verify(short).userId).toBe(1);
    clock.advance(1);
    expect(() => signer.verify(short)).toThrow(
      expect.objectContaining({ code: 'expired_context', statusCode: 403 }),
    );
    clock.advance(49_999);
    expect(signer.verify(long).userId).toBe(1);
    clock.advance(1);
    expect(() => signer.verify(long)).toThrow(expect.objectContaining({ code: 'expired_context' }));
  });
});
