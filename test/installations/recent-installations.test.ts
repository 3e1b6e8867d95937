// The widget-open lookup cache: hits within the TTL, every write through the store seen at
// once, another process's write within the TTL. The store is the in-memory one (held to the
// database store's rules by memory-store.test.ts): it reads when asked, so a lookup that
// races a write surely reads the row from before it.
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryInstallationStore } from '../../src/installations/memory-store.js';
import { RecentInstallations } from '../../src/installations/recent-installations.js';
import type { Installation } from '../../src/installations/types.js';

let store: MemoryInstallationStore;
let installation: Installation;
beforeAll(async () => {
  store = new MemoryInstallationStore();
  installation = await store.save(
    {
      memberId: 'recent1',
      domain: 'r.example.com',
      clientEndpoint: 'https://r.example.com/rest/',
      status: 'active',
    },
    {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: new Date(Date.now() + 3600_000),
      userId: 1,
    },
  );
});

function counted() {
  let now = 0;
  let lookups = 0;
  const source = {
    find: (memberId: string) => {
      lookups++;
      return store.find(memberId);
    },
  };
  const recent = new RecentInstallations(source, 2_000, 3, () => now);
  store.onInstallationWrite(() => recent.forget());
  return { recent, lookups: () => lookups, advance: (ms: number) => (now += ms) };
}

describe('RecentInstallations', () => {
  it('reads the store once for concurrent opens and keeps the answer for its TTL', async () => {
    const { recent, lookups, advance } = counted();
    const found = await Promise.all(Array.from({ length: 20 }, () => recent.find('recent1')));
    expect(found.every((i) => i?.id === installation.id)).toBe(true);
    expect(lookups()).toBe(1);
    advance(1_999);
    await recent.find('recent1');
    expect(lookups()).toBe(1);
    advance(2);
    await recent.find('recent1');
    expect(lookups()).toBe(2);
  });

  it('sees a write through the store at once, and another process’s write within the TTL', async () => {
    const { recent, advance } = counted();
    expect((await recent.find('recent1'))?.status).toBe('active');
    await store.setStatus(installation.id, 'needs_reinstall', 'invalid_grant');
    expect((await recent.find('recent1'))?.status).toBe('needs_reinstall');
    // Another process (a second store on the same data) uninstalls: seen after the TTL.
    const otherProcess = store.otherProcess();
    await otherProcess.setStatus(installation.id, 'uninstalled');
    expect((await recent.find('recent1'))?.status).toBe('needs_reinstall');
    advance(2_001);
    expect((await recent.find('recent1'))?.status).toBe('uninstalled');
    await store.setStatus(installation.id, 'active', null);
  });

  it('does not keep an answer read before a write that finished after it', async () => {
    const { recent } = counted();
    const racing = recent.find('recent1');
    await store.setStatus(installation.id, 'needs_reinstall', 'x');
    await racing;
    expect((await recent.find('recent1'))?.status).toBe('needs_reinstall');
    await store.setStatus(installation.id, 'active', null);
  });

  it('never keeps unknown portals and stays within its bound', async () => {
    const { recent, lookups } = counted();
    for (let i = 0; i < 5; i++) expect(await recent.find(`nobody${i}`)).toBeNull();
    expect(recent.size).toBe(0);
    for (let i = 2; i <= 5; i++) {
      await store.save(
        {
          memberId: `recent${i}`,
          domain: 'r.example.com',
          clientEndpoint: 'https://r.example.com/rest/',
          status: 'active',
        },
        { accessToken: 'a-1', refreshToken: 'r-1', expiresAt: new Date(Date.now() + 3600_000), userId: 1 },
      );
    }
    const before = lookups();
    for (let i = 1; i <= 5; i++) await recent.find(`recent${i}`);
    expect(recent.size).toBe(3);
    expect(lookups() - before).toBe(5);
  });
});
