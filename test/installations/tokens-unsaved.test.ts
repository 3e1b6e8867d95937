// A refreshed pair the database did not take (issue #18; the #20.1 defence): it is served from
// memory, written again with backoff under a kept-alive lease, and given up on after
// writeRetryMs; a pair whose write committed though its answer was lost is recognised; a write
// that lost the compare-and-set to a reinstall uses the reinstall's pair. Real emulator and
// SQLite database; the store's writes fail where a test says so (what PostgreSQL's driver throws
// for a dropped connection). `Date` is frozen and moved by hand.
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/bitrix24/errors.js';
import type { InstallationStore } from '../../src/installations/types.js';
import {
  advance,
  droppedConnection,
  env,
  gate,
  id,
  installation,
  intervalsOf,
  logged,
  manager,
  pause,
  stored,
  storeExpiry,
  T0,
  timeoutsOf,
  until,
  useTokenEnv,
} from './tokens-harness.js';

useTokenEnv();

type Replace = InstallationStore['replaceTokens'];

/** replaceTokens that throws `error` for the first `failures` calls, then writes. */
function failingWrites(failures: number, error: () => unknown = droppedConnection, onFailure?: () => void) {
  const calls = { n: 0 };
  return {
    calls,
    store: (base: InstallationStore) => ({
      replaceTokens: async (...args: Parameters<Replace>) => {
        calls.n += 1;
        if (calls.n <= failures) {
          onFailure?.();
          throw error();
        }
        return base.replaceTokens(...args);
      },
    }),
  };
}

describe('a refreshed pair the database refused', () => {
  it('is served at once, from memory, and written again after 100 then 200 ms; the lease is kept meanwhile', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const writes = failingWrites(3);
    let reads = 0;
    const m = manager('a', {
      tokens: { heartbeatMs: 20 },
      store: (base) => ({
        ...writes.store(base),
        getTokens: (installationId: number) => {
          reads += 1;
          return base.getTokens(installationId);
        },
      }),
    });
    const waits = timeoutsOf([50, 100, 200, 400, 800]);
    const token = await m.tokens.getAccessToken(id());
    // Not stored yet: the stored refresh token is spent, the lease is still ours.
    expect(await stored()).toMatchObject({ version: before.version, leaseOwner: 'a' });
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(T0 + 1))).toBe('busy');
    const readsBefore = reads;
    expect(await m.tokens.getAccessToken(id())).toBe(token);
    expect(reads).toBe(readsBefore);

    await m.tokens.idle();
    expect(writes.calls.n).toBe(4);
    expect(waits()).toEqual([100, 200, 400]);
    expect(m.tokens.stats).toEqual({
      refreshRequests: 1,
      waitedForOtherProcess: 0,
      writeRetries: 3,
      markedTerminal: 0,
    });
    const after = await stored();
    expect(after).toMatchObject({ accessToken: token, version: before.version + 1, leaseOwner: null });
    expect(m.spent).toEqual([before.refreshToken]);
    expect(logged('bitrix24 refreshed tokens could not be stored; kept in memory and written again')).toEqual(
      [expect.objectContaining({ installationId: id(), err: { name: 'DriverAdapterError', code: '57P01' } })],
    );
    expect(logged('bitrix24 refreshed tokens stored after a retry')).toEqual([
      expect.objectContaining({ installationId: id() }),
    ]);
    // Stored: the heartbeat has stopped (no more lease renewals) and the pair is remembered.
    const renewals = m.leases.length;
    await pause(80);
    expect(m.leases.length).toBe(renewals);
    const readsAfter = reads;
    expect(await m.tokens.getAccessToken(id())).toBe(token);
    expect(reads).toBe(readsAfter);
  });

  it('an unsaved pair that has expired meanwhile: waits for the write, then refreshes with its refresh token', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const writes = failingWrites(1);
    const m = manager('a', { store: writes.store });
    const token = await m.tokens.getAccessToken(id());
    advance(3_600_000);
    const renewed = await m.tokens.getAccessToken(id());
    expect(renewed).not.toBe(token);
    expect(m.spent).toEqual([before.refreshToken, m.spent[1]]);
    expect(m.spent[1]).not.toBe(before.refreshToken);
    expect(await stored()).toMatchObject({ accessToken: renewed, version: before.version + 2 });
  });

  it('refreshNow while a pair is unsaved: busy, returns without waiting', async () => {
    await storeExpiry(T0 - 1);
    const m = manager('a', { store: failingWrites(1).store });
    await m.tokens.getAccessToken(id());
    await expect(m.tokens.refreshNow(id())).resolves.toBeUndefined();
    expect(m.spent).toHaveLength(1);
    await m.tokens.idle();
  });

  it('by default a refused write is retried for 5 minutes', async () => {
    await storeExpiry(T0 - 1);
    const writes = failingWrites(100, droppedConnection, () => advance(100_000));
    const m = manager('a', { store: writes.store });
    await m.tokens.getAccessToken(id());
    await m.tokens.idle();
    // First write at +100 s (deadline +400 s); retries at +200, +300, +400 s.
    expect(writes.calls.n).toBe(4);
    expect(m.tokens.stats.writeRetries).toBe(3);
  });

  it('the portal rejecting the unsaved token: waits for the write, then refreshes with the new refresh token', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const writes = failingWrites(1);
    const m = manager('a', { store: writes.store });
    const token = await m.tokens.getAccessToken(id());
    const renewed = await m.tokens.renewAccessToken(id(), token);
    const issued = m.spent[1];
    expect(m.spent).toEqual([before.refreshToken, issued]);
    expect(issued).not.toBe(before.refreshToken);
    expect(renewed).not.toBe(token);
    expect(await stored()).toMatchObject({ accessToken: renewed, version: before.version + 2 });
  });

  it('is given up on once writeRetryMs has passed since the first failure, logged with the time tried', async () => {
    await storeExpiry(T0 - 1);
    const writes = failingWrites(100, droppedConnection, () => advance(500));
    const m = manager('a', { store: writes.store, tokens: { writeRetryMs: 1_000 } });
    const waits = timeoutsOf([100, 200, 400, 800]);
    await m.tokens.getAccessToken(id());
    await m.tokens.idle();
    // First write at +500 (deadline +1500); retries at +1000 and +1500: the second gives up.
    expect(writes.calls.n).toBe(3);
    expect(waits()).toEqual([100, 200]);
    expect(m.tokens.stats.writeRetries).toBe(2);
    expect(
      logged(
        'bitrix24 refreshed tokens could not be stored in time: the portal needs a reinstall once this process stops',
      ),
    ).toEqual([
      expect.objectContaining({
        installationId: id(),
        triedForMs: 1_000,
        err: { name: 'DriverAdapterError', code: '57P01' },
      }),
    ]);
    expect(await m.tokens.renewIfIssuedBefore(id(), new Date(0))).toBe('recent');
  });

  it('names a thrown non-error as nothing, and an error by its string name and code only', async () => {
    await storeExpiry(T0 - 1);
    const odd = failingWrites(1, () => 'connection lost');
    const a = manager('a', { store: odd.store }).tokens;
    await a.getAccessToken(id());
    await a.idle();
    await storeExpiry(T0 - 1);
    const numeric = failingWrites(1, () => Object.assign(new Error('x'), { code: 57 }));
    const b = manager('b', { store: numeric.store }).tokens;
    await b.getAccessToken(id());
    await b.idle();
    await storeExpiry(T0 - 1);
    const unnamed = failingWrites(1, () => ({ name: 7, code: 'E1' }));
    const c = manager('c', { store: unnamed.store }).tokens;
    await c.getAccessToken(id());
    await c.idle();
    await storeExpiry(T0 - 1);
    const fn = failingWrites(1, () => function dropped() {});
    const e = manager('e', { store: fn.store }).tokens;
    await e.getAccessToken(id());
    await e.idle();
    await storeExpiry(T0 - 1);
    const nothing = failingWrites(1, () => null);
    const d = manager('d', { store: nothing.store }).tokens;
    await d.getAccessToken(id());
    await d.idle();
    const errs = logged(
      'bitrix24 refreshed tokens could not be stored; kept in memory and written again',
    ).map((l) => l.err);
    expect(errs).toEqual([{}, { name: 'Error' }, { code: 'E1' }, {}, {}]);
  });

  it('a write that committed though its answer was lost: the retry finds our pair stored and keeps it', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    let calls = 0;
    const m = manager('a', {
      store: (base) => ({
        replaceTokens: async (...args: Parameters<Replace>) => {
          calls += 1;
          const saved = await base.replaceTokens(...args);
          if (calls === 1) throw droppedConnection();
          return saved;
        },
      }),
    });
    const token = await m.tokens.getAccessToken(id());
    await m.tokens.idle();
    expect(calls).toBe(2);
    expect(await stored()).toMatchObject({ accessToken: token, version: before.version + 1 });
    expect(logged('bitrix24 tokens changed during refresh; using the stored ones')).toEqual([]);
    expect(await m.tokens.getAccessToken(id())).toBe(token);
  });

  it('a reinstall stored a pair while ours waited: the retry leaves it, ours is not written', async () => {
    await storeExpiry(T0 - 1);
    const reinstall = env.emulator.issueTokens();
    const m = manager('a', {
      store: (base) => ({
        replaceTokens: async (...args: Parameters<Replace>) => {
          if ((await base.getTokens(id()))!.accessToken !== reinstall.access_token) {
            await saveReinstall(reinstall, T0 + 3_600_000);
            throw droppedConnection();
          }
          return base.replaceTokens(...args);
        },
      }),
    });
    await m.tokens.getAccessToken(id());
    await m.tokens.idle();
    expect((await stored()).accessToken).toBe(reinstall.access_token);
    expect(logged('bitrix24 tokens changed during refresh; using the stored ones')).toEqual([
      expect.objectContaining({ installationId: id() }),
    ]);
    expect(await m.tokens.getAccessToken(id())).toBe(reinstall.access_token);
  });
});

/** What an install POST does: the installation active and the pair it brought stored. */
async function saveReinstall(grant: { access_token: string; refresh_token: string }, expiresAt: number) {
  const inst = await installation();
  await env.store.save(
    { memberId: inst.memberId, domain: inst.domain, clientEndpoint: inst.clientEndpoint, status: 'active' },
    { accessToken: grant.access_token, refreshToken: grant.refresh_token, expiresAt: new Date(expiresAt) },
  );
}

/**
 * An expired pair's refresh, held once the OAuth server has answered while a reinstall stores a
 * pair ending at `expiresAt`, then let go: its write loses the compare-and-set.
 */
async function refreshLosingTo(expiresAt: number) {
  await storeExpiry(T0 - 1);
  const reinstall = env.emulator.issueTokens();
  const held = gate('after');
  const m = manager('a', { fetch: held.fetch });
  const call = m.tokens.getAccessToken(id());
  await held.served;
  await saveReinstall(reinstall, expiresAt);
  held.open();
  return { m, call, reinstall };
}

describe('a write that lost the compare-and-set to a reinstall', () => {
  it('uses the reinstall’s fresh pair', async () => {
    const { m, call, reinstall } = await refreshLosingTo(T0 + 3_600_000);
    expect(await call).toBe(reinstall.access_token);
    expect(logged('bitrix24 tokens changed during refresh; using the stored ones')).toHaveLength(1);
    expect(await m.tokens.getAccessToken(id())).toBe(reinstall.access_token);
    expect(m.spent).toHaveLength(1);
  });

  it('a reinstall’s pair that is stale too: TOKEN_CONFLICT, to be tried again', async () => {
    const { call } = await refreshLosingTo(T0 + 60_000); // within the skew
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'TOKEN_CONFLICT', status: 0, method: 'oauth/token' });
  });
});

describe('the lease heartbeat', () => {
  it('renews the lease every heartbeatMs for leaseMs from the renewal, on the version it refreshes', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const held = gate('before');
    const m = manager('a', { fetch: held.fetch, tokens: { leaseMs: 1_000, heartbeatMs: 20 } });
    const call = m.tokens.getAccessToken(id());
    await held.arrived;
    await until(() => m.leases.length >= 2, 'a renewal');
    advance(300);
    const seen = m.leases.length;
    await until(() => m.leases.length > seen + 1, 'a later renewal');
    expect(m.leases.at(-1)).toEqual({ owner: 'a', version: before.version, until: T0 + 1_300 });
    await until(async () => (await stored()).leaseUntil?.getTime() === T0 + 1_300, 'the lease extended');
    held.open();
    await call;
    const renewals = m.leases.length;
    await pause(80);
    expect(m.leases.length).toBe(renewals); // stopped with the write
  });

  it('beats a third of the lease by default, never faster than every 50 ms', async () => {
    for (const [leaseMs, beat] of [
      [4_000, 1_333],
      [120, 50],
    ] as const) {
      await storeExpiry(T0 - 1);
      const intervals = intervalsOf();
      await manager(`lease-${leaseMs}`, { tokens: { leaseMs } }).tokens.getAccessToken(id());
      expect(intervals()).toEqual([beat]);
    }
  });

  it('sends no second renewal while one is still in flight', async () => {
    await storeExpiry(T0 - 1);
    const held = gate('before');
    let inFlight = 0;
    let most = 0;
    let renewals = 0;
    const m = manager('a', {
      fetch: held.fetch,
      tokens: { heartbeatMs: 5 },
      store: (base) => ({
        acquireRefreshLease: async (...args: Parameters<InstallationStore['acquireRefreshLease']>) => {
          renewals += 1;
          inFlight += 1;
          most = Math.max(most, inFlight);
          await pause(40);
          inFlight -= 1;
          return base.acquireRefreshLease(...args);
        },
      }),
    });
    const call = m.tokens.getAccessToken(id());
    await held.arrived;
    await until(() => renewals >= 3, 'three renewals');
    held.open();
    await call;
    expect(most).toBe(1);
  });

  it('stops when the OAuth request fails', async () => {
    await storeExpiry(T0 - 1);
    env.emulator.faults.failNext(1, { status: 503, target: 'oauth' });
    const m = manager('a', { tokens: { heartbeatMs: 10 } });
    await expect(m.tokens.getAccessToken(id())).rejects.toBeInstanceOf(TransientError);
    const renewals = m.leases.length;
    await pause(60);
    expect(m.leases.length).toBe(renewals);
  });
});

describe('idle()', () => {
  it('settles only when the refresh in flight is done and stored', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const held = gate('before');
    const m = manager('a', { fetch: held.fetch });
    const call = m.tokens.getAccessToken(id());
    await held.arrived;
    let idle = false;
    const settled = m.tokens.idle().then(() => {
      idle = true;
    });
    await pause(30);
    expect(idle).toBe(false);
    held.open();
    await settled;
    expect((await stored()).version).toBe(before.version + 1);
    expect(await call).toBe((await stored()).accessToken);
  });
});

describe('adopt()', () => {
  it('tokens an install just stored are served without reading them back', async () => {
    let reads = 0;
    const m = manager('a', {
      store: (base) => ({
        getTokens: (installationId: number) => {
          reads += 1;
          return base.getTokens(installationId);
        },
      }),
    });
    m.tokens.adopt(id(), { accessToken: 'adopted-token', expiresAt: new Date(T0 + 3_600_000) });
    expect(await m.tokens.getAccessToken(id())).toBe('adopted-token');
    expect(reads).toBe(0);
  });
});

describe('without a logger', () => {
  it('every path that logs still serves, stores, marks and revives', async () => {
    const quiet = { logger: undefined, leaseMs: 1_000, heartbeatMs: 20 };
    // A write refused twice, then stored after a retry; a mark made meanwhile is undone.
    await storeExpiry(T0 - 1);
    const writes = failingWrites(
      1,
      droppedConnection,
      () => void env.store.setStatus(id(), 'needs_reinstall', 'x'),
    );
    const a = manager('a', { store: writes.store, tokens: quiet });
    const token = await a.tokens.getAccessToken(id());
    await a.tokens.idle();
    expect((await stored()).accessToken).toBe(token);
    expect((await installation()).status).toBe('active');
    // Given up on.
    await storeExpiry(T0 - 1);
    const never = failingWrites(100, droppedConnection, () => advance(1_000));
    const b = manager('b', { store: never.store, tokens: { ...quiet, writeRetryMs: 1_000 } });
    await b.tokens.getAccessToken(id());
    await b.tokens.idle();
    expect(never.calls.n).toBe(2);
    // Lost to a reinstall's pair.
    await env.emulator.renamePortal();
    const reinstall = env.emulator.issueTokens();
    const held = gate('after');
    const c = manager('c', {
      fetch: held.fetch,
      tokens: {
        ...quiet,
        onEndpointChanged: async () => {
          throw new Error('repin failed');
        },
      },
    });
    await storeExpiry(T0 - 1);
    const lost = c.tokens.getAccessToken(id());
    await held.served;
    await saveReinstall(reinstall, T0 + 3_600_000);
    held.open();
    expect(await lost).toBe(reinstall.access_token);
    // A listener failing, an answer for another member_id.
    await storeExpiry(T0 - 1);
    const d = manager('d', {
      tokens: {
        ...quiet,
        onEndpointChanged: async () => {
          throw new Error('repin failed');
        },
      },
    });
    expect(await d.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    await storeExpiry(T0 - 1);
    const e = manager('e', {
      fetch: async (input, init) => {
        const grant = (await (await fetch(input, init)).json()) as Record<string, unknown>;
        return new Response(JSON.stringify({ ...grant, member_id: 'someone-else' }));
      },
      tokens: quiet,
    });
    expect(await e.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    // A refusal of the stored refresh token, and of an outdated one.
    await storeExpiry(T0 - 1);
    env.emulator.revokeApp();
    await expect(manager('f', { tokens: quiet }).tokens.getAccessToken(id())).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    expect((await installation()).status).toBe('needs_reinstall');
    expect(env.logs.lines).toEqual([]);
  });
});
