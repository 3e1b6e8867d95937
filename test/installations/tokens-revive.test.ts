// A refresh whose lease lapsed while it ran (issue #18; the #19.2 defence): another process may
// have spent the same refresh token meanwhile, been refused, and marked the portal lost. When our
// pair is stored after all, the mark is undone, but only a mark made since our refresh started,
// only needs_reinstall or payment_required, and only when our lease really lapsed. Also: the
// address a refresh answer names, and the OAuth server a refresh goes to. Real emulator and
// SQLite database; `Date` frozen and moved by hand, heartbeats real (20 ms).
import { describe, expect, it } from 'vitest';
import { OAuthServers } from '../../src/bitrix24/oauth-servers.js';
import type { Installation, InstallationStatus, InstallationStore } from '../../src/installations/types.js';
import {
  advance,
  droppedConnection,
  env,
  gate,
  id,
  installation,
  logged,
  manager,
  stored,
  storeExpiry,
  T0,
  until,
  useTokenEnv,
} from './tokens-harness.js';

useTokenEnv();

const LOST = 'invalid_grant: Refresh token has already been used';
const REVIVED =
  'bitrix24 installation marked during a slow refresh is active again: the refreshed pair is stored';

/**
 * A refresh by 'slow' (lease 1 s, heartbeat 20 ms) whose OAuth answer is held after the server
 * issued it. `failRenewals` makes the heartbeat's renewals throw; `atClaim` runs when the lease is
 * first claimed (before the refresh starts).
 */
async function slowRefresh(
  options: { atClaim?: () => Promise<void>; findById?: () => Promise<Installation | null> } = {},
) {
  await storeExpiry(T0 - 1);
  const held = gate('after');
  const renewals = { fail: false, done: 0 };
  let claims = 0;
  const m = manager('slow', {
    fetch: held.fetch,
    tokens: { leaseMs: 1_000, heartbeatMs: 20 },
    store: (base: InstallationStore) => ({
      acquireRefreshLease: async (...args: Parameters<InstallationStore['acquireRefreshLease']>) => {
        claims += 1;
        if (claims === 1) await options.atClaim?.();
        try {
          if (claims > 1 && renewals.fail) throw droppedConnection();
          return await base.acquireRefreshLease(...args);
        } finally {
          if (claims > 1) renewals.done += 1;
        }
      },
      ...(options.findById && { findById: options.findById }),
    }),
  });
  const call = m.tokens.getAccessToken(id());
  await held.served;
  /** Waits until two more renewals have finished (the later one started after the earlier ended). */
  const beats = async () => {
    const seen = renewals.done;
    await until(() => renewals.done >= seen + 2, 'two renewals');
  };
  return { m, held, call, renewals, beats };
}

const mark = (status: InstallationStatus) => env.store.setStatus(id(), status, LOST);

describe('a pair stored after the lease lapsed', () => {
  it('revives a needs_reinstall marked since the refresh began, when a renewal found the lease taken', async () => {
    const slow = await slowRefresh();
    advance(600);
    await slow.beats(); // renewed at +600: the lease runs to +1600
    await env.store.releaseRefreshLease(id(), 'slow');
    expect(
      await env.store.acquireRefreshLease(id(), (await stored()).version, 'other', new Date(T0 + 5_000)),
    ).toBe(true);
    await slow.beats(); // renewals now find the lease taken
    await mark('needs_reinstall');
    slow.held.open();
    const token = await slow.call;
    expect(token).toBe((await stored()).accessToken);
    const revived = await installation();
    expect([revived.status, revived.lastError, revived.lastErrorAt]).toEqual(['active', null, null]);
    expect(logged(REVIVED)).toEqual([
      expect.objectContaining({ installationId: id(), was: 'needs_reinstall' }),
    ]);
  });

  it('revives payment_required, when no renewal succeeded for longer than the lease', async () => {
    const slow = await slowRefresh();
    slow.renewals.fail = true;
    await slow.beats();
    advance(1_001);
    await mark('payment_required');
    slow.held.open();
    await slow.call;
    expect((await installation()).status).toBe('active');
  });

  it('keeps the mark when the last renewal was exactly a lease ago (not lapsed)', async () => {
    const slow = await slowRefresh();
    slow.renewals.fail = true;
    await slow.beats();
    advance(1_000);
    await mark('needs_reinstall');
    slow.held.open();
    await slow.call;
    expect((await installation()).status).toBe('needs_reinstall');
    expect(logged(REVIVED)).toEqual([]);
  });

  it('keeps the mark when a renewal succeeded within the lease, though the refresh began longer ago', async () => {
    const slow = await slowRefresh();
    advance(600);
    await slow.beats(); // renewed at +600
    slow.renewals.fail = true;
    await slow.beats();
    advance(600); // +1200: 1.2 s since the start, 0.6 s since the renewal
    await mark('needs_reinstall');
    slow.held.open();
    await slow.call;
    expect((await installation()).status).toBe('needs_reinstall');
  });

  it('keeps any other status (an uninstall is not undone)', async () => {
    const slow = await slowRefresh();
    slow.renewals.fail = true;
    await slow.beats();
    advance(1_001);
    await mark('uninstalled');
    slow.held.open();
    await slow.call;
    expect((await installation()).status).toBe('uninstalled');
  });

  it('keeps a mark made before the refresh began; revives one made at its first millisecond', async () => {
    for (const [late, status] of [
      [1, 'needs_reinstall'],
      [0, 'active'],
    ] as const) {
      const slow = await slowRefresh({
        atClaim: async () => {
          await mark('needs_reinstall');
          advance(late);
        },
      });
      slow.renewals.fail = true;
      await slow.beats();
      advance(1_001);
      slow.held.open();
      await slow.call;
      expect((await installation()).status).toBe(status);
      await env.store.setStatus(id(), 'active', null);
    }
  });

  it('a store that cannot be read at that moment: the pair is still served', async () => {
    let reads = 0;
    const slow = await slowRefresh({
      findById: async () => {
        reads += 1;
        if (reads > 1) throw droppedConnection();
        return env.store.findById(id());
      },
    });
    slow.renewals.fail = true;
    await slow.beats();
    advance(1_001);
    await mark('needs_reinstall');
    slow.held.open();
    expect(await slow.call).toBe((await stored()).accessToken);
    expect(reads).toBe(2);
  });

  it('a pair written by a retry also revives the mark', async () => {
    await storeExpiry(T0 - 1);
    let writes = 0;
    const m = manager('a', {
      store: (base: InstallationStore) => ({
        replaceTokens: async (...args: Parameters<InstallationStore['replaceTokens']>) => {
          writes += 1;
          if (writes === 1) {
            await mark('needs_reinstall');
            throw droppedConnection();
          }
          return base.replaceTokens(...args);
        },
      }),
    });
    await m.tokens.getAccessToken(id());
    await m.tokens.idle();
    expect((await installation()).status).toBe('active');
  });
});

describe('what a refresh answer names', () => {
  it('another client endpoint for this member_id: told once, after the pair is stored', async () => {
    await storeExpiry(T0 - 1);
    const renamed = await env.emulator.renamePortal();
    const told: [number, string, number][] = [];
    const m = manager('a', {
      tokens: {
        onEndpointChanged: async (inst, endpoint) => {
          told.push([inst.id, endpoint, (await stored()).version]);
        },
      },
    });
    const before = await stored();
    await m.tokens.getAccessToken(id());
    expect(told).toEqual([[id(), renamed.clientEndpoint, before.version + 1]]);
  });

  it('the same endpoint: nothing told', async () => {
    await storeExpiry(T0 - 1);
    const told: string[] = [];
    const m = manager('a', { tokens: { onEndpointChanged: async (_i, e) => void told.push(e) } });
    await m.tokens.getAccessToken(id());
    expect(told).toEqual([]);
    expect(logged('bitrix24 OAuth answered for another member_id')).toEqual([]);
  });

  it('a failing listener is logged; the token is still served', async () => {
    await storeExpiry(T0 - 1);
    await env.emulator.renamePortal();
    const m = manager('a', {
      tokens: {
        onEndpointChanged: async () => {
          throw new Error('repin failed');
        },
      },
    });
    expect(await m.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    expect(logged('bitrix24 portal address change not applied')).toEqual([
      expect.objectContaining({
        installationId: id(),
        err: expect.objectContaining({ message: 'repin failed' }),
      }),
    ]);
  });

  it('another member_id: logged, and its endpoint is not taken', async () => {
    await storeExpiry(T0 - 1);
    await env.emulator.renamePortal();
    const told: string[] = [];
    const m = manager('a', {
      fetch: rewriting((grant) => ({ ...grant, member_id: 'someone-else' })),
      tokens: { onEndpointChanged: async (_i, e) => void told.push(e) },
    });
    await m.tokens.getAccessToken(id());
    expect(told).toEqual([]);
    expect(logged('bitrix24 OAuth answered for another member_id')).toEqual([
      expect.objectContaining({
        installationId: id(),
        memberId: env.installation.memberId,
        grantMemberId: 'someone-else',
      }),
    ]);
  });

  it('no listener: the renamed portal’s pair is stored and served', async () => {
    await storeExpiry(T0 - 1);
    await env.emulator.renamePortal();
    const m = manager('a');
    expect(await m.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
  });

  it('no client_endpoint in the answer: nothing told', async () => {
    await storeExpiry(T0 - 1);
    const told: unknown[] = [];
    const m = manager('a', {
      fetch: rewriting(({ client_endpoint: _e, ...grant }) => grant),
      tokens: { onEndpointChanged: async (_i, e) => void told.push(e) },
    });
    expect(await m.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    expect(told).toEqual([]);
  });

  it('no member_id: nothing logged, and its endpoint is not taken', async () => {
    await storeExpiry(T0 - 1);
    await env.emulator.renamePortal();
    const told: string[] = [];
    const m = manager('a', {
      fetch: rewriting(({ member_id: _m, ...grant }) => grant),
      tokens: { onEndpointChanged: async (_i, e) => void told.push(e) },
    });
    await m.tokens.getAccessToken(id());
    expect(told).toEqual([]);
    expect(logged('bitrix24 OAuth answered for another member_id')).toEqual([]);
  });
});

/** The emulator's real answer, its JSON changed by `change`. */
function rewriting(change: (grant: Record<string, unknown>) => Record<string, unknown>): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const grant = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(change(grant)), { status: response.status });
  };
}

describe('the OAuth server a refresh goes to', () => {
  it('with an allowlist: the one the installation names, not the configured default', async () => {
    const inst = await installation();
    await env.store.save(
      {
        memberId: inst.memberId,
        domain: inst.domain,
        clientEndpoint: inst.clientEndpoint,
        serverEndpoint: env.emulator.serverEndpoint,
        status: 'active',
      },
      await stored(),
    );
    await storeExpiry(T0 - 1);
    const m = manager('a', {
      tokens: {
        oauth: { ...oauthConfig(), oauthUrl: 'http://127.0.0.1:9' },
        servers: new OAuthServers([env.emulator.oauthUrl], 'http://127.0.0.1:9'),
      },
    });
    expect(await m.tokens.getAccessToken(id())).toBe((await stored()).accessToken);
    expect(m.servers).toEqual([new URL(env.emulator.oauthUrl).origin]);
  });
});

const oauthConfig = () => ({
  oauthUrl: env.emulator.oauthUrl,
  clientId: env.emulator.apps[0]!.clientId,
  clientSecret: env.emulator.apps[0]!.clientSecret,
});
