// The address-confirmation throttle of Installer.confirmAddress (issue #18: every bounded cache
// at its limit): a page naming another address than the pinned one costs at most one token
// refresh per portal every 5 minutes, whatever address it names; the throttle remembers at
// most 10,000 portals, dropping the least recently throttled first. On an injected clock.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Installer, type InstallerDeps } from '../../src/installations/installer.js';
import type { Installation } from '../../src/installations/types.js';

const FIVE_MINUTES = 5 * 60_000;

/** An installer whose only collaborators are the store lookup and the forced refresh, counted. */
function throttled(options: { renamedTo?: string } = {}) {
  let now = 1_000_000;
  const refreshed: number[] = [];
  const installer = new Installer({
    store: {
      find: async (memberId: string) => installation(memberId, options.renamedTo),
    },
    refreshNow: async (id: number) => {
      refreshed.push(id);
    },
    log: pino({ level: 'silent' }),
    now: () => now,
  } as unknown as InstallerDeps);
  return {
    installer,
    refreshed,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function installation(memberId: string, domain = 'pinned.example.com'): Installation {
  return {
    id: Number.parseInt(memberId.slice(1), 10),
    memberId,
    domain,
    clientEndpoint: `https://${domain}/rest/`,
    status: 'active',
  } as Installation;
}

const portal = (i: number) => installation(`m${i}`);

describe('address confirmation throttle', () => {
  it('one refresh per portal per 5 minutes, whatever address the pages name', async () => {
    const { installer, refreshed, advance } = throttled();
    expect(await installer.confirmAddress(portal(1), 'a.example.com')).toBeNull();
    expect(await installer.confirmAddress(portal(1), 'b.example.com')).toBeNull();
    expect(await installer.confirmAddress(portal(2), 'a.example.com')).toBeNull();
    expect(refreshed).toEqual([1, 2]);
    advance(FIVE_MINUTES - 1);
    await installer.confirmAddress(portal(1), 'c.example.com');
    expect(refreshed).toEqual([1, 2]);
    advance(1);
    await installer.confirmAddress(portal(1), 'c.example.com');
    expect(refreshed).toEqual([1, 2, 1]);
  });

  it('an address the OAuth server confirms is the re-pinned installation, and lifts the throttle', async () => {
    const { installer, refreshed } = throttled({ renamedTo: 'renamed.example.com' });
    expect((await installer.confirmAddress(portal(1), 'renamed.example.com'))?.domain).toBe(
      'renamed.example.com',
    );
    // Not confirmed (the server names another address): refused, and throttled from now on.
    expect(await installer.confirmAddress(portal(1), 'elsewhere.example.com')).toBeNull();
    expect(await installer.confirmAddress(portal(1), 'elsewhere.example.com')).toBeNull();
    expect(refreshed).toEqual([1, 1]);
  });

  it('remembers exactly 10,000 portals: the 10,001st drops the least recently throttled one', async () => {
    const { installer, refreshed } = throttled();
    for (let i = 0; i < 10_000; i += 1) await installer.confirmAddress(portal(i), 'a.example.com');
    expect(refreshed).toHaveLength(10_000);
    await installer.confirmAddress(portal(0), 'a.example.com'); // all 10,000 still throttled
    expect(refreshed).toHaveLength(10_000);
    await installer.confirmAddress(portal(10_000), 'a.example.com'); // drops portal 0
    expect(refreshed).toHaveLength(10_001);
    await installer.confirmAddress(portal(1), 'a.example.com'); // still throttled
    expect(refreshed).toHaveLength(10_001);
    await installer.confirmAddress(portal(0), 'a.example.com'); // forgotten: asked again
    expect(refreshed.slice(10_000)).toEqual([10_000, 0]);
  });
});
