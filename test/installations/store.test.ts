import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipher, plaintextCipher } from '../../src/installations/cipher.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
let store: PrismaInstallationStore;
const key = randomBytes(32);
beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new PrismaInstallationStore(testDb.db, createCipher(key));
});
afterAll(async () => testDb.close());

const grant = (n: number) => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt: new Date(Date.now() + 3600_000),
  userId: 1,
});

describe('PrismaInstallationStore', () => {
  it('saves an installation with tokens, encrypted at rest', async () => {
    const saved = await store.save(
      {
        memberId: 'm1',
        domain: 'p.example.com',
        clientEndpoint: 'https://p.example.com/rest/',
        applicationToken: 'app-secret',
        status: 'active',
      },
      grant(1),
    );
    expect(saved).toMatchObject({ memberId: 'm1', status: 'active', applicationToken: 'app-secret' });
    // installedAt marks the move to active, which setStatus makes (after the bindings succeed).
    expect(saved.installedAt).toBeNull();
    await store.setStatus(saved.id, 'active', null);
    expect((await store.find('m1'))?.installedAt).toBeInstanceOf(Date);
    const tokens = await store.getTokens(saved.id);
    expect(tokens).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1', version: 0 });
    const raw = await testDb.db.oAuthToken.findUniqueOrThrow({ where: { installationId: saved.id } });
    const rawInstallation = await testDb.db.installation.findUniqueOrThrow({ where: { id: saved.id } });
    expect(raw.accessToken).not.toContain('access-1');
    expect(raw.refreshToken).toMatch(/^enc:v1:/);
    expect(rawInstallation.applicationToken).not.toContain('app-secret');
  });

  it('cannot read tokens sealed with another key', async () => {
    const other = new PrismaInstallationStore(testDb.db, createCipher(randomBytes(32)));
    const id = (await store.find('m1'))!.id;
    await expect(other.getTokens(id)).rejects.toThrow(/unknown key/);
    const rotated = new PrismaInstallationStore(testDb.db, createCipher(randomBytes(32), [key]));
    expect((await rotated.getTokens(id))?.accessToken).toBe('access-1');
    await expect(new PrismaInstallationStore(testDb.db, plaintextCipher).getTokens(id)).rejects.toThrow(
      /TOKEN_ENCRYPTION_KEY/,
    );
  });

  it('replaceTokens is a compare-and-set on version', async () => {
    const id = (await store.find('m1'))!.id;
    const before = (await store.getTokens(id))!;
    const [a, b] = await Promise.all([
      store.replaceTokens(id, before.version, grant(2)),
      store.replaceTokens(id, before.version, grant(3)),
    ]);
    const winners = [a, b].filter(Boolean);
    expect(winners).toHaveLength(1);
    const after = (await store.getTokens(id))!;
    expect(after.version).toBe(before.version + 1);
    expect(after.accessToken).toBe(winners[0]!.accessToken);
    expect(after.refreshedAt).toBeInstanceOf(Date);
  });

  it('lets exactly one of several processes hold the refresh lease', async () => {
    const id = (await store.find('m1'))!.id;
    const { version } = (await store.getTokens(id))!;
    const second = new PrismaInstallationStore(testDb.connect(), createCipher(key));
    const until = new Date(Date.now() + 10_000);
    const results = await Promise.all([
      store.acquireRefreshLease(id, version, 'proc-a', until),
      second.acquireRefreshLease(id, version, 'proc-b', until),
      second.acquireRefreshLease(id, version, 'proc-c', until),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = ['proc-a', 'proc-b', 'proc-c'][results.indexOf(true)]!;
    // A stale version never gets the lease, even when free.
    await store.releaseRefreshLease(id, holder);
    expect(await store.acquireRefreshLease(id, version - 1, 'proc-a', until)).toBe(false);
    // An expired lease can be taken over (its holder crashed).
    expect(await store.acquireRefreshLease(id, version, 'proc-a', new Date(Date.now() - 1))).toBe(true);
    expect(await second.acquireRefreshLease(id, version, 'proc-b', until)).toBe(true);
    // Writing new tokens clears the lease.
    await store.replaceTokens(id, version, grant(4));
    expect((await store.getTokens(id))?.leaseOwner).toBeNull();
  });

  it('writes bindings as a diff: an unchanged set writes nothing', async () => {
    const inst = (await store.find('m1'))!;
    const set = [
      { kind: 'placement' as const, code: 'LANDING_SETTINGS', handler: 'https://a/s', title: 'S' },
      { kind: 'event' as const, code: 'ONAPPUNINSTALL', handler: 'https://a/e', title: null },
    ];
    await store.setBindings(inst.id, set);
    const first = await testDb.db.binding.findMany({
      where: { installationId: inst.id },
      orderBy: { id: 'asc' },
    });
    await store.setBindings(inst.id, set);
    expect(
      await testDb.db.binding.findMany({ where: { installationId: inst.id }, orderBy: { id: 'asc' } }),
    ).toEqual(first);
    await store.setBindings(inst.id, [{ ...set[0]!, title: 'Renamed' }]);
    const after = await testDb.db.binding.findMany({ where: { installationId: inst.id } });
    expect(after).toEqual([{ ...first[0], title: 'Renamed' }]);
  });

  it('keeps bindings, options and status', async () => {
    const inst = (await store.find('m1'))!;
    await store.setBindings(inst.id, [
      {
        kind: 'placement',
        code: 'LANDING_SETTINGS',
        handler: 'https://a/placements/settings',
        title: 'Settings',
      },
      { kind: 'event', code: 'ONAPPUNINSTALL', handler: 'https://a/events', title: null },
    ]);
    await store.setBindings(inst.id, [
      {
        kind: 'placement',
        code: 'LANDING_SETTINGS',
        handler: 'https://b/placements/settings',
        title: 'Settings',
      },
    ]);
    expect((await store.listBindings(inst.id)).map((b) => b.handler)).toEqual([
      'https://b/placements/settings',
    ]);
    await store.setOptions(inst.id, { a: '1', b: '2' });
    await store.setOptions(inst.id, { a: '3' });
    expect(await store.getOptions(inst.id)).toEqual({ a: '3', b: '2' });
    await store.setStatus(inst.id, 'needs_reinstall', 'invalid_grant');
    expect(await store.find('m1')).toMatchObject({ status: 'needs_reinstall', lastError: 'invalid_grant' });
    await store.setStatus(inst.id, 'uninstalled');
    expect((await store.find('m1'))?.uninstalledAt).toBeInstanceOf(Date);
    await store.delete(inst.id);
    expect(await store.find('m1')).toBeNull();
    expect(await testDb.db.binding.count()).toBe(0);
  });
});
