// One contract, two stores: every check runs on the in-memory store and on the Prisma store over
// the suite's real database, so unit tests that use the memory store get the database's rules
// (compare-and-set, the lease, bindings as a diff, cascades, refused writes).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipher } from '../../src/installations/cipher.js';
import { MemoryInstallationStore } from '../../src/installations/memory-store.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import type {
  InstallationInput,
  InstallationStore,
  PendingInstall,
  TokenGrant,
} from '../../src/installations/types.js';
import { createTestDatabase } from '../helpers/db.js';

type ListenedStore = InstallationStore & { onInstallationWrite(listener: () => void): void };

interface Subject {
  store: ListenedStore;
  /** A second store on the same data: another app process. */
  otherProcess(): ListenedStore;
  /** Records a pending install as if that happened at `at`. */
  savePendingAt(pending: PendingInstall, at: Date): Promise<void>;
  close(): Promise<void>;
}

async function memorySubject(): Promise<Subject> {
  let shiftMs = 0;
  const store = new MemoryInstallationStore({ now: () => Date.now() + shiftMs });
  return {
    store,
    otherProcess: () => store.otherProcess(),
    async savePendingAt(pending, at) {
      shiftMs = at.getTime() - Date.now();
      try {
        await store.savePendingInstall(pending);
      } finally {
        shiftMs = 0;
      }
    },
    close: async () => {},
  };
}

async function prismaSubject(): Promise<Subject> {
  const testDb = await createTestDatabase();
  const cipher = createCipher(randomBytes(32));
  const store = new PrismaInstallationStore(testDb.db, cipher);
  return {
    store,
    otherProcess: () => new PrismaInstallationStore(testDb.connect(), cipher),
    async savePendingAt(pending, at) {
      await store.savePendingInstall(pending);
      await testDb.db.pendingInstall.update({
        where: { grantHash: pending.grantHash },
        data: { createdAt: at },
      });
    },
    close: () => testDb.close(),
  };
}

const DAY_MS = 86_400_000;
const EXPIRES_AT = Date.now() + 3600_000;
let members = 0;
/** A fresh member_id: the checks share one store and never meet each other's rows. */
const member = () => `member${++members}`;

const portal = (memberId: string, fields: Partial<InstallationInput> = {}): InstallationInput => ({
  memberId,
  domain: `${memberId}.example.com`,
  clientEndpoint: `https://${memberId}.example.com/rest/`,
  ...fields,
});

const grant = (n: number, fields: Partial<TokenGrant> = {}): TokenGrant => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt: new Date(EXPIRES_AT + n),
  userId: 1,
  ...fields,
});

const pendingFor = (grantHash: string, n = 1): PendingInstall => ({
  ...grant(n),
  grantHash,
  memberId: `pending-${grantHash}`,
  clientEndpoint: 'https://pending.example.com/rest/',
  serverEndpoint: 'https://oauth.bitrix.info/rest/',
  scope: 'landing',
});

const binding = (code: string, title: string | null = null) => ({
  kind: 'placement' as const,
  code,
  handler: `https://app.example.com/placements/${code.toLowerCase()}`,
  title,
});

describe.each([
  ['MemoryInstallationStore', memorySubject],
  ['PrismaInstallationStore', prismaSubject],
])('%s keeps the store contract', (_name, open) => {
  let subject: Subject;
  let store: ListenedStore;
  beforeAll(async () => {
    subject = await open();
    store = subject.store;
  });
  afterAll(() => subject.close());

  it('creates an installation with defaults and finds it by member_id and by id', async () => {
    const m = member();
    const saved = await store.save(portal(m));
    expect(saved).toEqual({
      id: expect.any(Number),
      memberId: m,
      domain: `${m}.example.com`,
      clientEndpoint: `https://${m}.example.com/rest/`,
      serverEndpoint: null,
      applicationToken: null,
      status: 'new',
      scope: null,
      lang: null,
      installedAt: null,
      uninstalledAt: null,
      lastError: null,
      lastErrorAt: null,
      installGrantHash: null,
      healCount: 0,
      healedAt: null,
    });
    expect(await store.find(m)).toEqual(saved);
    expect(await store.findById(saved.id)).toEqual(saved);
    expect(await store.find(`${m}-unknown`)).toBeNull();
    expect(await store.findById(saved.id + 10_000)).toBeNull();
    expect(await store.getTokens(saved.id)).toBeNull();
  });

  it('updates only the fields given: undefined keeps a value, null clears the application token', async () => {
    const m = member();
    const full = {
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      applicationToken: 'app-secret',
      scope: 'landing',
      lang: 'de',
      status: 'active' as const,
      installGrantHash: 'hash-1',
    };
    const created = await store.save(portal(m, full));
    expect(created).toMatchObject(full);
    const moved = await store.save({
      memberId: m,
      domain: 'moved.example.com',
      clientEndpoint: 'https://moved/',
    });
    expect(moved).toEqual({ ...created, domain: 'moved.example.com', clientEndpoint: 'https://moved/' });
    const cleared = await store.save({ ...portal(m), applicationToken: null, scope: null, status: 'new' });
    expect(cleared).toMatchObject({
      id: created.id,
      applicationToken: null,
      scope: null,
      status: 'new',
      lang: 'de',
    });
    expect(await store.find(m)).toEqual(cleared);
  });

  it('stores tokens at version 0; each save with tokens bumps the version and drops the lease', async () => {
    const saved = await store.save(portal(member()), grant(1, { userId: undefined }));
    const first = await store.getTokens(saved.id);
    expect(first).toEqual({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: grant(1).expiresAt,
      userId: null,
      version: 0,
      refreshedAt: expect.any(Date),
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(await store.acquireRefreshLease(saved.id, 0, 'proc-a', new Date(Date.now() + 60_000))).toBe(true);
    await store.save(portal(saved.memberId), grant(2));
    expect(await store.getTokens(saved.id)).toMatchObject({
      accessToken: 'access-2',
      userId: 1,
      version: 1,
      leaseOwner: null,
      leaseUntil: null,
    });
    // A save without tokens leaves them alone.
    await store.save(portal(saved.memberId, { lang: 'ru' }));
    expect((await store.getTokens(saved.id))?.version).toBe(1);
  });

  it('counts a heal only when it updates an existing installation', async () => {
    const m = member();
    const created = await store.save(portal(m), grant(1), { healed: true });
    expect(created).toMatchObject({ healCount: 0, healedAt: null });
    const healed = await store.save(portal(m), grant(2), { healed: true });
    expect(healed).toMatchObject({ id: created.id, healCount: 1, healedAt: expect.any(Date) });
    expect((await store.save(portal(m)))?.healCount).toBe(1);
    const summary = (await store.summaries()).find((s) => s.id === created.id);
    expect(summary?.healCount).toBe(1);
  });

  it('records pending installs: the same grant again replaces the record but keeps its age', async () => {
    const hash = `grant-${member()}`;
    await store.savePendingInstall({ ...pendingFor(hash), userId: undefined });
    expect(await store.findPendingInstall(hash)).toEqual({ ...pendingFor(hash), userId: null });
    await store.savePendingInstall(pendingFor(hash, 2));
    expect(await store.findPendingInstall(hash)).toEqual(pendingFor(hash, 2));
    await store.deletePendingInstall(hash);
    expect(await store.findPendingInstall(hash)).toBeNull();
    await store.deletePendingInstall(hash);

    // A week-old record written again is still week-old: the next completed install drops it.
    await subject.savePendingAt(pendingFor(hash), new Date(Date.now() - 8 * DAY_MS));
    await store.savePendingInstall(pendingFor(hash, 3));
    await store.save(portal(member()), grant(1), { completesPending: `grant-${member()}` });
    expect(await store.findPendingInstall(hash)).toBeNull();
  });

  it('a completed install drops its pending install and week-old ones, nothing else', async () => {
    const [own, old, recent] = [member(), member(), member()].map((m) => `grant-${m}`) as [
      string,
      string,
      string,
    ];
    await store.savePendingInstall(pendingFor(own));
    await subject.savePendingAt(pendingFor(old), new Date(Date.now() - 8 * DAY_MS));
    await subject.savePendingAt(pendingFor(recent), new Date(Date.now() - 6 * DAY_MS));
    // Without completesPending nothing is dropped.
    await store.save(portal(member()), grant(1));
    expect(await store.findPendingInstall(old)).not.toBeNull();
    await store.save(portal(member()), grant(1), { completesPending: own });
    expect(await store.findPendingInstall(own)).toBeNull();
    expect(await store.findPendingInstall(old)).toBeNull();
    expect(await store.findPendingInstall(recent)).toEqual(pendingFor(recent));
  });

  it('setStatus stamps the times of its moves and keeps lastError unless given one', async () => {
    const { id } = await store.save(portal(member()));
    await store.setStatus(id, 'active');
    const active = (await store.findById(id))!;
    expect(active).toMatchObject({ status: 'active', installedAt: expect.any(Date), uninstalledAt: null });
    await store.setStatus(id, 'needs_reinstall', 'invalid_grant');
    expect(await store.findById(id)).toMatchObject({
      status: 'needs_reinstall',
      lastError: 'invalid_grant',
      lastErrorAt: expect.any(Date),
      installedAt: active.installedAt,
    });
    await store.setStatus(id, 'uninstalled');
    const uninstalled = (await store.findById(id))!;
    expect(uninstalled).toMatchObject({
      status: 'uninstalled',
      uninstalledAt: expect.any(Date),
      installedAt: active.installedAt,
      lastError: 'invalid_grant',
    });
    await store.setStatus(id, 'uninstalled', null);
    expect(await store.findById(id)).toMatchObject({ lastError: null, lastErrorAt: null });
    await store.setStatus(id, 'active', null);
    expect(await store.findById(id)).toMatchObject({ status: 'active', uninstalledAt: null });
  });

  it('setApplicationToken replaces the application token', async () => {
    const { id, memberId } = await store.save(portal(member(), { applicationToken: 'old' }));
    await store.setApplicationToken(id, 'new');
    expect((await store.find(memberId))?.applicationToken).toBe('new');
  });

  it('refuses writes that name a missing installation, and changes nothing', async () => {
    const { id } = await store.save(portal(member()));
    const missing = id + 10_000;
    await expect(store.setStatus(missing, 'active')).rejects.toThrow();
    await expect(store.setApplicationToken(missing, 'x')).rejects.toThrow();
    await expect(store.delete(missing)).rejects.toThrow();
    await expect(store.setBindings(missing, [binding('LANDING_SETTINGS')])).rejects.toThrow();
    await expect(store.setOptions(missing, { a: '1' })).rejects.toThrow();
    expect(await store.listBindings(missing)).toEqual([]);
    expect(await store.getOptions(missing)).toEqual({});
    expect(await store.findById(missing)).toBeNull();
    // Nothing to write, nothing refused.
    await store.setBindings(missing, []);
    await store.setOptions(missing, {});
    expect(await store.replaceTokens(missing, 0, grant(1))).toBeNull();
    expect(await store.acquireRefreshLease(missing, 0, 'proc-a', new Date(Date.now() + 1000))).toBe(false);
    await store.releaseRefreshLease(missing, 'proc-a');
    await store.deleteTokens(missing);
  });

  it('summaries list every installation in id order with its token times, nothing secret', async () => {
    const withTokens = await store.save(
      portal(member(), { applicationToken: 'secret', lang: 'en' }),
      grant(1),
    );
    const without = await store.save(portal(member()));
    await store.setStatus(withTokens.id, 'active', 'rebind failed: X');
    const stored = (await store.getTokens(withTokens.id))!;
    const installed = (await store.findById(withTokens.id))!;
    const summaries = await store.summaries();
    const ids = summaries.map((s) => s.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(summaries.find((s) => s.id === withTokens.id)).toEqual({
      id: withTokens.id,
      memberId: withTokens.memberId,
      domain: withTokens.domain,
      status: 'active',
      lang: 'en',
      installedAt: installed.installedAt,
      lastError: 'rebind failed: X',
      lastErrorAt: installed.lastErrorAt,
      healCount: 0,
      tokenExpiresAt: stored.expiresAt,
      tokenRefreshedAt: stored.refreshedAt,
    });
    expect(summaries.find((s) => s.id === without.id)).toMatchObject({
      tokenExpiresAt: null,
      tokenRefreshedAt: null,
    });
    const listed = (await store.list()).map((i) => i.id);
    expect(listed).toEqual(ids);
    expect(listed).toEqual(expect.arrayContaining([withTokens.id, without.id]));
  });

  it('replaceTokens is a compare-and-set on version', async () => {
    const { id } = await store.save(portal(member()), grant(1));
    const before = (await store.getTokens(id))!;
    const [a, b] = await Promise.all([
      store.replaceTokens(id, before.version, grant(2)),
      store.replaceTokens(id, before.version, grant(3)),
    ]);
    const winners = [a, b].filter((w) => w !== null);
    expect(winners).toHaveLength(1);
    const after = (await store.getTokens(id))!;
    expect(after).toEqual(winners[0]);
    expect(after.version).toBe(before.version + 1);
    expect(await store.replaceTokens(id, before.version, grant(4))).toBeNull();
    expect((await store.getTokens(id))?.accessToken).toBe(after.accessToken);
  });

  it('lets one holder at a time have the refresh lease, across processes', async () => {
    const { id } = await store.save(portal(member()), grant(1));
    const other = subject.otherProcess();
    const { version } = (await store.getTokens(id))!;
    const until = new Date(Date.now() + 60_000);
    const results = await Promise.all([
      store.acquireRefreshLease(id, version, 'proc-a', until),
      other.acquireRefreshLease(id, version, 'proc-b', until),
      other.acquireRefreshLease(id, version, 'proc-c', until),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = ['proc-a', 'proc-b', 'proc-c'][results.indexOf(true)]!;
    const rival = holder === 'proc-a' ? 'proc-b' : 'proc-a';
    expect(await store.getTokens(id)).toMatchObject({ leaseOwner: holder, leaseUntil: until });
    // The holder renews; a rival's release takes nothing.
    const later = new Date(until.getTime() + 5_000);
    expect(await other.acquireRefreshLease(id, version, holder, later)).toBe(true);
    await store.releaseRefreshLease(id, rival);
    expect(await store.acquireRefreshLease(id, version, rival, until)).toBe(false);
    // Released, it is free; a stale version never gets it.
    await store.releaseRefreshLease(id, holder);
    expect(await store.getTokens(id)).toMatchObject({ leaseOwner: null, leaseUntil: null });
    expect(await store.acquireRefreshLease(id, version - 1, rival, until)).toBe(false);
    // An expired lease is taken over (its holder died).
    expect(await store.acquireRefreshLease(id, version, holder, new Date(Date.now() - 1))).toBe(true);
    expect(await other.acquireRefreshLease(id, version, rival, until)).toBe(true);
    // New tokens clear it.
    await store.replaceTokens(id, version, grant(2));
    expect(await store.getTokens(id)).toMatchObject({ version: version + 1, leaseOwner: null });
  });

  it('deleteTokens forgets the tokens and keeps the installation', async () => {
    const { id, memberId } = await store.save(portal(member()), grant(1));
    await store.deleteTokens(id);
    expect(await store.getTokens(id)).toBeNull();
    expect(await store.find(memberId)).not.toBeNull();
    expect((await store.summaries()).find((s) => s.id === id)?.tokenExpiresAt).toBeNull();
    await store.save(portal(memberId), grant(2));
    expect((await store.getTokens(id))?.version).toBe(0);
  });

  it('writes bindings as a diff: unchanged ones keep their boundAt, a new title is set in place', async () => {
    const { id } = await store.save(portal(member()));
    await store.setBindings(id, [binding('A', 'First'), binding('B')]);
    const first = await store.listBindings(id);
    expect(first).toEqual([
      { ...binding('A', 'First'), boundAt: expect.any(Date) },
      { ...binding('B'), boundAt: expect.any(Date) },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.setBindings(id, [binding('B'), binding('A', 'First')]);
    expect(await store.listBindings(id)).toEqual(first);
    await store.setBindings(id, [binding('C'), binding('B', 'Renamed')]);
    const [b, c] = await store.listBindings(id);
    expect(b).toEqual({ ...first[1], title: 'Renamed' });
    expect(c).toMatchObject(binding('C'));
    expect(c!.boundAt.getTime()).toBeGreaterThan(first[0]!.boundAt.getTime());
    // Codes are compared exactly, as the unique index compares them.
    await store.setBindings(id, [binding('C'), { ...binding('C'), code: 'c' }]);
    expect((await store.listBindings(id)).map((r) => r.code)).toEqual(['C', 'c']);
    await store.setBindings(id, []);
    expect(await store.listBindings(id)).toEqual([]);
  });

  it('refuses the same new binding twice and keeps what was recorded', async () => {
    const { id } = await store.save(portal(member()));
    await store.setBindings(id, [binding('A')]);
    const before = await store.listBindings(id);
    await expect(store.setBindings(id, [binding('B'), binding('B', 'again')])).rejects.toThrow();
    expect(await store.listBindings(id)).toEqual(before);
  });

  it('saveInstall writes a first install once: status, tokens at version 0, bindings, its pending install consumed', async () => {
    const [own, old] = [member(), member()].map((m) => `grant-${m}`) as [string, string];
    await store.savePendingInstall(pendingFor(own));
    await subject.savePendingAt(pendingFor(old), new Date(Date.now() - 8 * DAY_MS));
    const m = member();
    const saved = await store.saveInstall(
      portal(m, { status: 'new', lang: 'en', applicationToken: 'app' }),
      grant(1),
      {
        completesPending: own,
        existingId: null,
        bindings: [binding('A', 'First'), binding('B')],
        recorded: [],
        status: { status: 'active', error: null },
      },
    );
    expect(saved).toMatchObject({
      memberId: m,
      status: 'active',
      lang: 'en',
      applicationToken: 'app',
      installedAt: expect.any(Date),
      uninstalledAt: null,
      lastError: null,
      lastErrorAt: null,
      healCount: 0,
    });
    expect(await store.find(m)).toEqual(saved);
    expect(await store.getTokens(saved.id)).toMatchObject({ accessToken: 'access-1', version: 0, userId: 1 });
    expect(await store.listBindings(saved.id)).toEqual([
      { ...binding('A', 'First'), boundAt: expect.any(Date) },
      { ...binding('B'), boundAt: expect.any(Date) },
    ]);
    expect(await store.findPendingInstall(own)).toBeNull();
    expect(await store.findPendingInstall(old)).toBeNull();

    // A failed bind: the status given with its error, nothing bound, no install time.
    const failed = await store.saveInstall(portal(member(), { status: 'new' }), grant(2), {
      completesPending: own,
      existingId: null,
      bindings: [],
      recorded: [],
      status: { status: 'new', error: 'binding failed: A (X)' },
    });
    expect(failed).toMatchObject({
      status: 'new',
      installedAt: null,
      lastError: 'binding failed: A (X)',
      lastErrorAt: expect.any(Date),
    });
    expect(await store.listBindings(failed.id)).toEqual([]);
    expect((await store.getTokens(failed.id))?.accessToken).toBe('access-2');
  });

  it('saveInstall over an installation: tokens replaced, bindings diffed against the reading, status kept unless given', async () => {
    const m = member();
    const existing = await store.save(portal(m, { status: 'active' }), grant(1));
    await store.setStatus(existing.id, 'active', 'earlier error');
    await store.setBindings(existing.id, [binding('A'), binding('B')]);
    expect(await store.acquireRefreshLease(existing.id, 0, 'proc-a', new Date(Date.now() + 60_000))).toBe(
      true,
    );
    const before = (await store.findById(existing.id))!;
    const recorded = await store.listBindings(existing.id);
    const saved = await store.saveInstall(portal(m, { status: 'active', lang: 'de' }), grant(2), {
      completesPending: 'none',
      existingId: existing.id,
      bindings: [binding('B', 'Renamed'), binding('C')],
      recorded,
    });
    expect(saved).toEqual({ ...before, lang: 'de' });
    expect(await store.getTokens(existing.id)).toMatchObject({
      accessToken: 'access-2',
      version: 1,
      leaseOwner: null,
      leaseUntil: null,
    });
    const [b, c] = await store.listBindings(existing.id);
    expect(b).toEqual({ ...recorded[1], title: 'Renamed' });
    expect(c).toMatchObject(binding('C'));
    expect(await store.listBindings(existing.id)).toHaveLength(2);
    // With a status: written as setStatus writes it.
    const settled = await store.saveInstall(portal(m, { status: 'active' }), grant(3), {
      completesPending: 'none',
      existingId: existing.id,
      bindings: [binding('B', 'Renamed'), binding('C')],
      recorded: await store.listBindings(existing.id),
      status: { status: 'active', error: null },
    });
    expect(settled).toMatchObject({ status: 'active', lastError: null, lastErrorAt: null });
    expect(settled.installedAt!.getTime()).toBeGreaterThanOrEqual(before.installedAt!.getTime());
  });

  it('saveInstall of a first install another writer made meanwhile updates it, diffed against what it recorded', async () => {
    const m = member();
    const other = subject.otherProcess();
    const first = await other.saveInstall(portal(m, { status: 'new' }), grant(1), {
      completesPending: 'none',
      existingId: null,
      bindings: [binding('A')],
      recorded: [],
      status: { status: 'active', error: null },
    });
    const [a] = await store.listBindings(first.id);
    const second = await store.saveInstall(portal(m, { status: 'new' }), grant(2), {
      completesPending: 'none',
      existingId: null,
      bindings: [binding('A'), binding('B')],
      recorded: [],
      status: { status: 'active', error: null },
    });
    expect(second).toMatchObject({ id: first.id, status: 'active', lastError: null });
    expect((await store.list()).filter((i) => i.memberId === m)).toHaveLength(1);
    expect(await store.getTokens(first.id)).toMatchObject({ accessToken: 'access-2', version: 1 });
    expect(await store.listBindings(first.id)).toEqual([a, { ...binding('B'), boundAt: expect.any(Date) }]);
  });

  it('saveInstall diffs against what is stored when the installation read is not the one written', async () => {
    const m = member();
    const gone = await store.save(portal(m), grant(1));
    await store.setBindings(gone.id, [binding('A')]);
    const recorded = await store.listBindings(gone.id);
    // Purged and installed again by another writer since the caller read.
    await store.delete(gone.id);
    const anew = await store.save(portal(m), grant(2));
    await store.setBindings(anew.id, [binding('Z')]);
    const saved = await store.saveInstall(portal(m), grant(3), {
      completesPending: 'none',
      existingId: gone.id,
      bindings: [binding('A'), binding('B')],
      recorded,
    });
    expect(saved.id).toBe(anew.id);
    expect((await store.listBindings(anew.id)).map((b) => b.code)).toEqual(['A', 'B']);
  });

  it('saveInstall refuses the same new binding twice and writes nothing', async () => {
    const own = `grant-${member()}`;
    await store.savePendingInstall(pendingFor(own));
    const m = member();
    await expect(
      store.saveInstall(portal(m), grant(1), {
        completesPending: own,
        existingId: null,
        bindings: [binding('B'), binding('B', 'again')],
        recorded: [],
      }),
    ).rejects.toThrow();
    expect(await store.find(m)).toBeNull();
    expect(await store.findPendingInstall(own)).toEqual(pendingFor(own));
  });

  it('sets options by key, per installation', async () => {
    const one = await store.save(portal(member()));
    const two = await store.save(portal(member()));
    await store.setOptions(one.id, { a: '1', b: '2' });
    await store.setOptions(one.id, { a: '3' });
    await store.setOptions(two.id, { a: 'other' });
    expect(await store.getOptions(one.id)).toEqual({ a: '3', b: '2' });
    expect(await store.getOptions(two.id)).toEqual({ a: 'other' });
  });

  it('delete takes the tokens, bindings and options with it; pending installs stay', async () => {
    const m = member();
    const { id } = await store.save(portal(m), grant(1));
    await store.setBindings(id, [binding('A')]);
    await store.setOptions(id, { a: '1' });
    await store.savePendingInstall({ ...pendingFor(`grant-${m}`), memberId: m });
    await store.delete(id);
    expect(await store.find(m)).toBeNull();
    expect(await store.getTokens(id)).toBeNull();
    expect(await store.listBindings(id)).toEqual([]);
    expect(await store.getOptions(id)).toEqual({});
    expect(await store.findPendingInstall(`grant-${m}`)).not.toBeNull();
    // The portal installs again as a new row: ids are never reused.
    const again = await store.save(portal(m));
    expect(again.id).toBeGreaterThan(id);
    expect(await store.getTokens(again.id)).toBeNull();
  });

  it('answers copies: changing an answer changes nothing stored', async () => {
    const { id, memberId } = await store.save(portal(member()), grant(1));
    await store.setBindings(id, [binding('A')]);
    const installation = (await store.find(memberId))!;
    installation.status = 'uninstalled';
    const tokens = (await store.getTokens(id))!;
    tokens.version = 99;
    tokens.expiresAt.setTime(0);
    (await store.listBindings(id))[0]!.title = 'changed';
    (await store.getOptions(id)).a = 'changed';
    expect((await store.find(memberId))?.status).toBe('new');
    expect(await store.getTokens(id)).toMatchObject({ version: 0, expiresAt: grant(1).expiresAt });
    expect((await store.listBindings(id))[0]?.title).toBeNull();
    expect(await store.getOptions(id)).toEqual({});
  });

  it('tells its write listeners about installation writes only, not another process’s', async () => {
    let told = 0;
    store.onInstallationWrite(() => told++);
    const other = subject.otherProcess();
    const saved = await store.save(portal(member()), grant(1));
    await store.setStatus(saved.id, 'active');
    await store.setApplicationToken(saved.id, 'app');
    await store.resealSecrets();
    expect(told).toBe(4);
    await store.replaceTokens(saved.id, 0, grant(2));
    await store.setBindings(saved.id, [binding('A')]);
    await store.setOptions(saved.id, { a: '1' });
    await store.savePendingInstall(pendingFor(`grant-${saved.memberId}`));
    await other.setStatus(saved.id, 'needs_reinstall', 'invalid_grant');
    expect(told).toBe(4);
    expect((await store.findById(saved.id))?.status).toBe('needs_reinstall');
    await store.delete(saved.id);
    expect(told).toBe(5);
  });

  it('resealSecrets under the key that sealed everything finds every secret current', async () => {
    await store.save(portal(member(), { applicationToken: 'app' }), grant(1));
    const withTokens = (await store.summaries()).filter((s) => s.tokenExpiresAt !== null).length;
    const withAppToken = (await store.list()).filter((i) => i.applicationToken !== null).length;
    const none = { resealed: 0, unreadable: [], skipped: 0 };
    expect(await store.resealSecrets()).toEqual({
      tokens: { ...none, current: withTokens },
      applicationTokens: { ...none, current: withAppToken },
    });
  });
});

describe('MemoryInstallationStore clock', () => {
  it('expires the refresh lease by its clock, not the wall clock', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = new MemoryInstallationStore({ now: () => now });
    const { id } = await store.save(portal(member()), grant(1));
    expect(await store.acquireRefreshLease(id, 0, 'proc-a', new Date(now + 5_000))).toBe(true);
    now += 5_000;
    expect(await store.acquireRefreshLease(id, 0, 'proc-b', new Date(now + 5_000))).toBe(false);
    now += 1;
    expect(await store.acquireRefreshLease(id, 0, 'proc-b', new Date(now + 5_000))).toBe(true);
  });

  it('stamps every time it records from its clock', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const store = new MemoryInstallationStore({ now: () => now });
    const { id, memberId } = await store.save(portal(member()), grant(1));
    await store.setStatus(id, 'active', 'x');
    await store.setBindings(id, [binding('A')]);
    await store.save(portal(memberId), undefined, { healed: true });
    const at = new Date(now);
    expect(await store.findById(id)).toMatchObject({ installedAt: at, lastErrorAt: at, healedAt: at });
    expect((await store.getTokens(id))?.refreshedAt).toEqual(at);
    expect((await store.listBindings(id))[0]?.boundAt).toEqual(at);
  });
});
