// The keep-alive's refresh of an ageing refresh token (renewIfIssuedBefore, refreshNow) and a
// rejected token's renewal (issue #18): each verdict, the refresh token spent, what is stored;
// one refresh per installation in this process however the calls meet. Real emulator and SQLite
// database; `Date` frozen and moved by hand.
import { describe, expect, it } from 'vitest';
import type { InstallationStore } from '../../src/installations/types.js';
import {
  advance,
  env,
  gate,
  id,
  installation,
  manager,
  stored,
  storeExpiry,
  T0,
  useTokenEnv,
} from './tokens-harness.js';

useTokenEnv();

/** Sets when the stored refresh token was received, and when the installation was installed. */
async function ages(refreshedAt: number | null, installedAt: number | null) {
  await env.testDb.db.oAuthToken.updateMany({
    where: { installationId: id() },
    data: { refreshedAt: refreshedAt === null ? null : new Date(refreshedAt) },
  });
  await env.testDb.db.installation.update({
    where: { id: id() },
    data: { installedAt: installedAt === null ? null : new Date(installedAt) },
  });
}

describe('the keep-alive (renewIfIssuedBefore)', () => {
  it('a refresh token received before the cutoff: refreshed under the lease, the new pair stored now', async () => {
    advance(10_000);
    await ages(T0 - 1, T0);
    const before = await stored();
    const m = manager('a');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0))).toBe('refreshed');
    expect(m.spent).toEqual([before.refreshToken]);
    expect(m.leases).toEqual([{ owner: 'a', version: before.version, until: T0 + 14_000 }]);
    const after = await stored();
    expect(after).toMatchObject({ version: before.version + 1, leaseOwner: null });
    expect(after.refreshedAt!.getTime()).toBe(T0 + 10_000);
    expect(after.accessToken).not.toBe(before.accessToken);
    // The new pair is remembered: served without a read.
    expect(await m.tokens.getAccessToken(id())).toBe(after.accessToken);
  });

  it('received at or after the cutoff: recent, nothing sent', async () => {
    await ages(T0, null);
    const m = manager('a');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0))).toBe('recent');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 - 1))).toBe('recent');
    expect(m.spent).toEqual([]);
    expect(m.leases).toEqual([]);
  });

  it('no record of the refresh: aged from the install; neither: refreshed', async () => {
    await ages(null, T0);
    const m = manager('a');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0))).toBe('recent');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('refreshed');
    await ages(null, null);
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(0))).toBe('refreshed');
    expect(m.spent).toHaveLength(2);
  });

  it('no tokens, no installation, or a status that is not refreshed: skipped', async () => {
    const m = manager('a');
    await env.store.setStatus(id(), 'needs_reinstall', 'x');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('skipped');
    await env.store.setStatus(id(), 'new', null);
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('refreshed');
    const gone = manager('b', { store: () => ({ findById: async () => null }) });
    expect(await gone.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('skipped');
    await env.store.deleteTokens(id());
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('skipped');
    expect(m.spent).toHaveLength(1);
    expect(gone.spent).toEqual([]);
  });

  it('another process holds the lease: busy, nothing sent', async () => {
    const s = await stored();
    await env.store.acquireRefreshLease(id(), s.version, 'elsewhere', new Date(T0 + 60_000));
    const m = manager('a');
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('busy');
    expect(m.spent).toEqual([]);
    expect(await stored()).toMatchObject({ leaseOwner: 'elsewhere', version: s.version });
  });

  it('a refresh in flight here: busy at once; a caller during the keep-alive’s refresh joins it', async () => {
    await storeExpiry(T0 - 1);
    const held = gate('before');
    const m = manager('a', { fetch: held.fetch });
    const keepAlive = m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1));
    await held.arrived;
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('busy');
    const caller = m.tokens.getAccessToken(id());
    held.open();
    expect(await keepAlive).toBe('refreshed');
    expect(await caller).toBe((await stored()).accessToken);
    expect(m.spent).toHaveLength(1);
    // The flight is over: an expired pair later is refreshed again.
    await storeExpiry(T0 - 1);
    m.tokens.forget(id());
    expect(await m.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    expect(m.spent).toHaveLength(2);
  });

  it('a caller here starting a refresh between the check and the lease: busy, and the lease is given back', async () => {
    const m = manager('a', {
      store: (base: InstallationStore) => ({
        acquireRefreshLease: async (...args: Parameters<InstallationStore['acquireRefreshLease']>) => {
          const held = await base.acquireRefreshLease(...args);
          if (caller === undefined) caller = m.tokens.getAccessToken(id());
          return held;
        },
      }),
    });
    let caller: Promise<string> | undefined;
    const before = await stored();
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('busy');
    expect(await stored()).toMatchObject({ leaseOwner: null, leaseUntil: null, version: before.version });
    expect(await caller).toBe(before.accessToken);
    expect(m.spent).toEqual([]);
  });

  it('refreshNow refreshes whatever the age; when busy it returns once the refresh in flight is done', async () => {
    const m = manager('a');
    await m.tokens.refreshNow(id());
    expect(m.spent).toHaveLength(1);

    await storeExpiry(T0 - 1);
    const held = gate('before');
    const slow = manager('b', { fetch: held.fetch });
    const call = slow.tokens.getAccessToken(id());
    await held.arrived;
    let done = false;
    const now = slow.tokens.refreshNow(id()).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    held.open();
    await now;
    expect((await stored()).accessToken).toBe(await call);
    expect(slow.spent).toHaveLength(1);
  });

  it('refreshNow finding nothing to refresh returns at once, though a refresh began meanwhile', async () => {
    await storeExpiry(T0 - 1);
    const held = gate('before');
    let caller: Promise<string> | undefined;
    let first = true;
    const m = manager('a', {
      fetch: held.fetch,
      store: (base: InstallationStore) => ({
        getTokens: async (installationId: number) => {
          if (first) {
            first = false;
            caller = m.tokens.getAccessToken(installationId);
            return null; // the keep-alive's read: as if uninstalled
          }
          return base.getTokens(installationId);
        },
      }),
    });
    // Joining the caller's refresh would wait here for ever: it is held at the gate below.
    await m.tokens.refreshNow(id());
    let settled = false;
    void caller!.then(() => {
      settled = true;
    });
    await held.arrived;
    expect(settled).toBe(false);
    held.open();
    expect(await caller).toBe((await stored()).accessToken);
  });

  it('refreshNow after a failed refresh in flight does not throw', async () => {
    await storeExpiry(T0 - 1);
    const held = gate('before');
    const slow = manager('b', { fetch: held.fetch });
    env.emulator.faults.failNext(1, { status: 503, target: 'oauth' });
    const call = slow.tokens.getAccessToken(id()).catch((e: unknown) => e);
    await held.arrived;
    const now = slow.tokens.refreshNow(id());
    held.open();
    await expect(now).resolves.toBeUndefined();
    expect(await call).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', status: 503 });
  });
});

describe('a rejected token', () => {
  it('another one already remembered: that one, nothing read', async () => {
    const m = manager('a');
    const current = await m.tokens.getAccessToken(id());
    expect(await m.tokens.renewAccessToken(id(), 'some-older-token')).toBe(current);
    expect(m.spent).toEqual([]);
    // Once it has expired, it is not served: the stored pair (expired too) is refreshed.
    advance(3_600_000);
    const renewed = await m.tokens.renewAccessToken(id(), 'some-older-token');
    expect(renewed).not.toBe(current);
    expect(renewed).toBe((await stored()).accessToken);
    expect(m.spent).toHaveLength(1);
  });

  it('the stored one: refreshed once with the stored refresh token', async () => {
    const before = await stored();
    const m = manager('a');
    const renewed = await m.tokens.renewAccessToken(id(), before.accessToken);
    expect(m.spent).toEqual([before.refreshToken]);
    expect(renewed).toBe((await stored()).accessToken);
    expect(renewed).not.toBe(before.accessToken);
  });

  it('a newer pair stored by another process: that pair, no refresh', async () => {
    const m = manager('a');
    const old = await m.tokens.getAccessToken(id());
    const other = manager('b');
    const newer = await other.tokens.renewAccessToken(id(), old);
    expect(await m.tokens.renewAccessToken(id(), old)).toBe(newer);
    expect(m.spent).toEqual([]);
  });

  it('a flight that began before the rejection and brings the rejected token: goes again', async () => {
    const before = await stored();
    const m = manager('a');
    const get = m.tokens.getAccessToken(id()); // starts a flight: the stored token
    const renew = m.tokens.renewAccessToken(id(), before.accessToken); // joins it, gets the rejected one
    expect(await get).toBe(before.accessToken);
    const renewed = await renew;
    expect(renewed).not.toBe(before.accessToken);
    expect(m.spent).toEqual([before.refreshToken]);
    expect(renewed).toBe((await stored()).accessToken);
  });

  it('a rejected token that keeps coming back: three refreshes, then TOKEN_UNAVAILABLE', async () => {
    // Another writer stores the rejected access token again (with a working refresh token) just
    // before each of our writes: each refresh loses the compare-and-set and finds it stored.
    const rejected = (await stored()).accessToken;
    const m = manager('a', {
      store: (base: InstallationStore) => ({
        replaceTokens: async (...args: Parameters<InstallationStore['replaceTokens']>) => {
          const [installationId, version, grant] = args;
          const again = env.emulator.issueTokens();
          await base.replaceTokens(installationId, version, {
            accessToken: rejected,
            refreshToken: again.refresh_token,
            expiresAt: new Date(T0 + 3_600_000),
          });
          return base.replaceTokens(installationId, version, grant);
        },
      }),
    });
    const error = await m.tokens.renewAccessToken(id(), rejected).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', status: 0, method: 'oauth/token' });
    expect(m.spent).toHaveLength(3);
    expect((await installation()).status).toBe('active');
  });

  it('the token source of a client: get and renew of this installation', async () => {
    const before = await stored();
    const m = manager('a');
    const source = m.tokens.sourceFor(id());
    expect(await source.get()).toBe(before.accessToken);
    const renewed = await source.renew(before.accessToken, {} as never);
    expect(renewed).toBe((await stored()).accessToken);
    expect(m.spent).toEqual([before.refreshToken]);
  });

  it('an expired remembered token is not served: the stored pair is refreshed', async () => {
    const m = manager('a');
    const first = await m.tokens.getAccessToken(id());
    advance(3_600_000 - 60_000); // the stored pair expires in exactly the skew
    const second = await m.tokens.getAccessToken(id());
    expect(second).not.toBe(first);
    expect(m.spent).toHaveLength(1);
    advance(3_600_000 - 60_000);
    expect(await m.tokens.getAccessToken(id())).not.toBe(second);
    expect(m.spent).toHaveLength(2);
    expect((await installation()).status).toBe('active');
  });
});
