// The refresh lease of the token manager (issue #18): which refresh token is spent, what is stored,
// who holds the lease until when, how long a caller waits for another process, and what is
// refused without a refresh. Real parts: the emulator's OAuth server (single-use refresh tokens)
// and the SQLite test database. Time: `Date` is frozen (fake timers) and moved by hand, so lease
// expiries and deadlines are exact; timers stay real (the waits are a few milliseconds).
import { describe, expect, it } from 'vitest';
import { PaymentRequiredError, ReinstallRequiredError, TransientError } from '../../src/bitrix24/errors.js';
import {
  advance,
  env,
  gate,
  id,
  installation,
  logged,
  manager,
  oauth,
  stored,
  storeExpiry,
  T0,
  timeoutsOf,
  useTokenEnv,
} from './tokens-harness.js';

useTokenEnv();

describe('a fresh token', () => {
  it('is the stored one, read once, with no refresh', async () => {
    const before = await stored();
    const reads = { n: 0 };
    const m = manager('a', {
      store: (base) => ({
        getTokens: (installationId: number) => {
          reads.n += 1;
          return base.getTokens(installationId);
        },
      }),
    });
    expect(await m.tokens.getAccessToken(id())).toBe(before.accessToken);
    expect(await m.tokens.getAccessToken(id())).toBe(before.accessToken);
    expect(reads.n).toBe(1);
    expect(m.spent).toEqual([]);
    expect(oauth().requests).toBe(0);
  });

  it('is refreshed once its expiry is within the skew (60 s by default), not a millisecond earlier', async () => {
    await storeExpiry(T0 + 60_001);
    const m = manager('a');
    const first = await stored();
    expect(await m.tokens.getAccessToken(id())).toBe(first.accessToken);
    expect(m.spent).toEqual([]);

    m.tokens.forget(id());
    advance(1);
    const renewed = await m.tokens.getAccessToken(id());
    expect(m.spent).toEqual([first.refreshToken]);
    const after = await stored();
    expect(renewed).toBe(after.accessToken);
    expect(after.version).toBe(first.version + 1);
    expect(after.refreshedAt!.getTime()).toBe(T0 + 1);
  });

  it('is judged by the injected clock, and a refreshed pair expires an hour after that clock', async () => {
    const now = T0 + 7_200_000; // two hours on: the stored pair (one hour) has expired
    const m = manager('a', { tokens: { clock: { now: () => now }, refreshSkewMs: 1_000 } });
    const first = await stored();
    const token = await m.tokens.getAccessToken(id());
    expect(m.spent).toEqual([first.refreshToken]);
    const after = await stored();
    expect(token).toBe(after.accessToken);
    expect(after.expiresAt.getTime()).toBe(now + 3_600_000);
    // 1 s skew: fresh until its last second.
    expect(await m.tokens.getAccessToken(id())).toBe(token);
    expect(m.spent).toHaveLength(1);
  });
});

describe('the refresh lease', () => {
  it('is claimed for leaseMs (4 s by default) on the stored version, spends the stored refresh token once, and is released by the write', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const m = manager('owner-a');
    const token = await m.tokens.getAccessToken(id());
    expect(m.leases).toEqual([{ owner: 'owner-a', version: before.version, until: T0 + 4_000 }]);
    expect(m.spent).toEqual([before.refreshToken]);
    const after = await stored();
    expect(after).toMatchObject({
      accessToken: token,
      version: before.version + 1,
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(m.tokens.stats).toEqual({
      refreshRequests: 1,
      waitedForOtherProcess: 0,
      writeRetries: 0,
      markedTerminal: 0,
    });
    expect(oauth().refreshRequests).toBe(1);
  });

  it('lasts the leaseMs asked for, and holds while the OAuth request is in flight', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const held = gate('before');
    const m = manager('owner-a', { fetch: held.fetch, tokens: { leaseMs: 1_500, heartbeatMs: 60_000 } });
    const call = m.tokens.getAccessToken(id());
    await held.arrived;
    expect(await stored()).toMatchObject({ leaseOwner: 'owner-a', leaseUntil: new Date(T0 + 1_500) });
    // Another process finds the lease held: it does not claim it, it waits.
    const other = manager('owner-b', { tokens: { waitTimeoutMs: 0 } });
    await expect(other.tokens.getAccessToken(id())).rejects.toMatchObject({
      code: 'TOKEN_REFRESH_WAIT_TIMEOUT',
    });
    expect(other.leases).toEqual([{ owner: 'owner-b', version: before.version, until: T0 + 4_000 }]);
    expect(other.spent).toEqual([]);
    held.open();
    await call;
    expect(m.spent).toEqual([before.refreshToken]);
    expect(oauth().refreshRequests).toBe(1);
  });

  it('a caller waits for the process holding it, polling with doubling waits, and gives up at waitTimeoutMs', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    expect(
      await env.store.acquireRefreshLease(id(), before.version, 'elsewhere', new Date(T0 + 60_000)),
    ).toBe(true);
    let reads = 0;
    const m = manager('owner-a', {
      tokens: { waitTimeoutMs: 1_000, pollMinMs: 7, pollMaxMs: 20 },
      store: (base) => ({
        getTokens: async (installationId: number) => {
          reads += 1;
          advance(250); // each poll takes a quarter of the wait
          return base.getTokens(installationId);
        },
      }),
    });
    const waits = timeoutsOf([3, 7, 14, 20, 28]);
    const error = await m.tokens.getAccessToken(id()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'TOKEN_REFRESH_WAIT_TIMEOUT', status: 0, method: 'oauth/token' });
    // Polls at +250, +500, +750 ms wait; the one at +1000 ms (the deadline) gives up.
    expect(reads).toBe(4);
    expect(waits()).toEqual([7, 14, 20]);
    expect(m.tokens.stats.waitedForOtherProcess).toBe(1);
    expect(m.spent).toEqual([]);
    expect(await stored()).toMatchObject({ leaseOwner: 'elsewhere', version: before.version });
  });

  it('by default: polls from 20 ms doubling to 250 ms, and gives up after 20 s', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    await env.store.acquireRefreshLease(id(), before.version, 'elsewhere', new Date(T0 + 60_000));
    let reads = 0;
    const m = manager('owner-a', {
      store: (base) => ({
        getTokens: async (installationId: number) => {
          reads += 1;
          advance(3_000);
          return base.getTokens(installationId);
        },
      }),
    });
    const waits = timeoutsOf([10, 20, 40, 80, 160, 250, 320]);
    await expect(m.tokens.getAccessToken(id())).rejects.toMatchObject({ code: 'TOKEN_REFRESH_WAIT_TIMEOUT' });
    expect(reads).toBe(7); // +3 s … +21 s
    expect(waits()).toEqual([20, 40, 80, 160, 250, 250]);
  });

  it('a waiting caller takes the pair the lease holder stored, without a refresh of its own', async () => {
    await storeExpiry(T0 - 1);
    const held = gate('before');
    const slow = manager('holder', { fetch: held.fetch, tokens: { heartbeatMs: 60_000 } });
    const holderCall = slow.tokens.getAccessToken(id());
    await held.arrived;
    let reads = 0;
    const m = manager('waiter', {
      tokens: { pollMinMs: 1, pollMaxMs: 1 },
      store: (base) => ({
        getTokens: async (installationId: number) => {
          reads += 1;
          if (reads === 2) {
            held.open();
            await holderCall;
          }
          return base.getTokens(installationId);
        },
      }),
    });
    const token = await m.tokens.getAccessToken(id());
    expect(token).toBe(await holderCall);
    expect(reads).toBe(2);
    expect(m.spent).toEqual([]);
    expect(slow.spent).toHaveLength(1);
    expect(m.tokens.stats).toMatchObject({ refreshRequests: 0, waitedForOtherProcess: 1 });
  });

  it('a lease its holder stopped renewing is taken over once it has expired', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    await env.store.acquireRefreshLease(id(), before.version, 'crashed', new Date(T0 + 600));
    const m = manager('survivor', {
      tokens: { pollMinMs: 1, pollMaxMs: 1 },
      store: (base) => ({
        getTokens: async (installationId: number) => {
          advance(250);
          return base.getTokens(installationId);
        },
      }),
    });
    const token = await m.tokens.getAccessToken(id());
    // Claims at +250 and +500 fail; at +750 the lease (until +600) is free.
    expect(m.leases.map((l) => [l.owner, l.until])).toEqual([
      ['survivor', T0 + 250 + 4_000],
      ['survivor', T0 + 500 + 4_000],
      ['survivor', T0 + 750 + 4_000],
    ]);
    expect(m.spent).toEqual([before.refreshToken]);
    expect(token).toBe((await stored()).accessToken);
    expect(m.tokens.stats).toMatchObject({ refreshRequests: 1, waitedForOtherProcess: 1 });
  });

  it('a failed OAuth request releases the lease, and the next call refreshes with the same token', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const m = manager('owner-a');
    env.emulator.faults.failNext(1, { status: 503, target: 'oauth' });
    await expect(m.tokens.getAccessToken(id())).rejects.toBeInstanceOf(TransientError);
    expect(await stored()).toMatchObject({ version: before.version, leaseOwner: null, leaseUntil: null });
    const token = await m.tokens.getAccessToken(id());
    expect(m.spent).toEqual([before.refreshToken, before.refreshToken]);
    expect(token).toBe((await stored()).accessToken);
  });
});

describe('no refresh without a refreshable installation', () => {
  it('no stored tokens: NO_TOKENS, reinstall', async () => {
    await env.store.deleteTokens(id());
    const m = manager('a');
    const error = await m.tokens.getAccessToken(id()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReinstallRequiredError);
    expect(error).toMatchObject({
      code: 'NO_TOKENS',
      status: 0,
      description: `installation ${id()}: the installation has no stored tokens`,
      method: 'oauth/token',
    });
  });

  it('the installation gone between the two reads: NO_INSTALLATION, reinstall, no refresh', async () => {
    await storeExpiry(T0 - 1);
    const m = manager('a', { store: () => ({ findById: async () => null }) });
    const error = await m.tokens.getAccessToken(id()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReinstallRequiredError);
    expect(error).toMatchObject({
      code: 'NO_INSTALLATION',
      description: `installation ${id()}: installation not found`,
    });
    expect(m.spent).toEqual([]);
    expect(m.leases).toEqual([]);
  });

  it('needs_reinstall: the recorded OAuth code (behind a prefix) names the error; nothing is sent', async () => {
    await storeExpiry(T0 - 1);
    await env.store.setStatus(id(), 'needs_reinstall', 'rebind failed: invalid_client: wrong secret');
    const m = manager('a');
    const error = await m.tokens.getAccessToken(id()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReinstallRequiredError);
    expect(error).not.toBeInstanceOf(PaymentRequiredError);
    expect(error).toMatchObject({
      code: 'invalid_client',
      status: 0,
      description: `installation ${id()}: installation is needs_reinstall: rebind failed: invalid_client: wrong secret`,
      method: 'oauth/token',
    });
    expect(m.spent).toEqual([]);
    expect(m.leases).toEqual([]);
  });

  it('only a whole recorded OAuth code names the error', async () => {
    await storeExpiry(T0 - 1);
    for (const [lastError, code] of [
      ['invalid_grant', 'invalid_grant'],
      ['refused: PAYMENT_REQUIRED.', 'PAYMENT_REQUIRED'],
      ['xinvalid_grant', 'needs_reinstall'],
      ['invalid_clients', 'needs_reinstall'],
    ]) {
      await env.store.setStatus(id(), 'needs_reinstall', lastError);
      const error = await manager('a')
        .tokens.getAccessToken(id())
        .catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(PaymentRequiredError);
      expect([lastError, (error as ReinstallRequiredError).code]).toEqual([lastError, code]);
    }
  });

  it('uninstalled without a recorded error: the status is the code', async () => {
    await storeExpiry(T0 - 1);
    await env.store.setStatus(id(), 'uninstalled', null);
    const error = await manager('a')
      .tokens.getAccessToken(id())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'uninstalled',
      description: `installation ${id()}: installation is uninstalled`,
    });
  });

  it('payment_required: a PaymentRequiredError', async () => {
    await storeExpiry(T0 - 1);
    await env.store.setStatus(id(), 'payment_required', 'PAYMENT_REQUIRED: pay');
    const error = await manager('a')
      .tokens.getAccessToken(id())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      description: `installation ${id()}: installation is payment_required: PAYMENT_REQUIRED: pay`,
    });
  });

  it('a fresh stored pair is served whatever the status (the status guards refreshes only)', async () => {
    await env.store.setStatus(id(), 'needs_reinstall', 'x');
    expect(await manager('a').tokens.getAccessToken(id())).toBe((await stored()).accessToken);
  });
});

describe('the OAuth server refusing the refresh token', () => {
  it('still the stored one: needs_reinstall with the code, lease released, counted once, cached token dropped', async () => {
    const m = manager('a');
    const cached = await m.tokens.getAccessToken(id());
    const before = await stored();
    env.emulator.revokeApp(); // the portal rejects the token, the OAuth server the refresh token
    const error = await m.tokens.renewAccessToken(id(), cached).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReinstallRequiredError);
    expect(error).toMatchObject({ code: 'invalid_grant' });
    expect(m.spent).toEqual([before.refreshToken]);
    const marked = await installation();
    expect(marked.status).toBe('needs_reinstall');
    expect(marked.lastError).toBe('invalid_grant: Refresh token has been revoked');
    expect(marked.lastErrorAt!.getTime()).toBe(T0);
    expect(await stored()).toMatchObject({ version: before.version, leaseOwner: null, leaseUntil: null });
    expect(m.tokens.stats.markedTerminal).toBe(1);
    expect(
      logged(
        `bitrix24 OAuth refused the refresh token (invalid_grant): installation marked needs_reinstall; it works again after a verified install`,
      ),
    ).toEqual([expect.objectContaining({ level: 50, installationId: id(), code: 'invalid_grant' })]);
    // The remembered token is gone: once the tokens are deleted too, nothing is served.
    await env.store.deleteTokens(id());
    await expect(m.tokens.getAccessToken(id())).rejects.toMatchObject({ code: 'NO_TOKENS' });
  });

  it('PAYMENT_REQUIRED: payment_required', async () => {
    await storeExpiry(T0 - 1);
    const m = manager('a', {
      fetch: async () =>
        new Response(JSON.stringify({ error: 'PAYMENT_REQUIRED', error_description: '' }), { status: 402 }),
    });
    await expect(m.tokens.getAccessToken(id())).rejects.toBeInstanceOf(PaymentRequiredError);
    const marked = await installation();
    expect(marked.status).toBe('payment_required');
    expect(marked.lastError).toBe('PAYMENT_REQUIRED: refused');
  });

  it('outdated (another process stored a newer pair meanwhile): the newer pair, nothing marked', async () => {
    await storeExpiry(T0 - 1);
    const before = await stored();
    const held = gate('before');
    const slow = manager('slow', { fetch: held.fetch, tokens: { leaseMs: 1_000, heartbeatMs: 60_000 } });
    const slowCall = slow.tokens.getAccessToken(id());
    await held.arrived;
    advance(1_001); // the slow process's lease has lapsed: another takes it and refreshes
    const other = manager('other');
    const newer = await other.tokens.getAccessToken(id());
    held.open();
    expect(await slowCall).toBe(newer);
    expect(slow.spent).toEqual([before.refreshToken]);
    expect(other.spent).toEqual([before.refreshToken]);
    expect(oauth().refreshFailures).toBe(1);
    expect((await installation()).status).toBe('active');
    expect(slow.tokens.stats.markedTerminal).toBe(0);
    expect(logged('bitrix24 refused an outdated refresh token; a newer pair is stored')).toEqual([
      expect.objectContaining({ level: 40, installationId: id(), code: 'invalid_grant' }),
    ]);
  });
});
