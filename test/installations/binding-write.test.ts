// setBindings with what the caller already knows (BindingWrite): the diff against the caller's
// reading instead of a second read, and the status written in the same transaction. Runs on
// the in-memory store and on the Prisma store over the suite's real database.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipher } from '../../src/installations/cipher.js';
import { MemoryInstallationStore } from '../../src/installations/memory-store.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import type { InstallationStore } from '../../src/installations/types.js';
import { createTestDatabase } from '../helpers/db.js';

interface Subject {
  store: InstallationStore & { onInstallationWrite(listener: () => void): void };
  close(): Promise<void>;
}

async function prismaSubject(): Promise<Subject> {
  const testDb = await createTestDatabase();
  return {
    store: new PrismaInstallationStore(testDb.db, createCipher(randomBytes(32))),
    close: () => testDb.close(),
  };
}

const memorySubject = async (): Promise<Subject> => ({
  store: new MemoryInstallationStore(),
  close: async () => {},
});

const binding = (code: string, title: string | null = null) => ({
  kind: 'placement' as const,
  code,
  handler: `https://app.example.com/placements/${code.toLowerCase()}`,
  title,
});

let members = 0;
const portal = () => {
  const memberId = `bw${++members}`;
  return {
    memberId,
    domain: `${memberId}.example.com`,
    clientEndpoint: `https://${memberId}.example.com/rest/`,
  };
};

describe.each([
  ['MemoryInstallationStore', memorySubject],
  ['PrismaInstallationStore', prismaSubject],
])('%s setBindings with the caller’s reading', (_name, open) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.close());

  const codes = async (id: number) =>
    (await subject.store.listBindings(id)).map(({ code, title }) => ({ code, title }));

  it('diffs against the reading: stale ones removed, new ones added, titles changed in place', async () => {
    const { store } = subject;
    const { id } = await store.save(portal());
    await store.setBindings(id, [binding('A'), binding('B', 'Old')]);
    const recorded = await store.listBindings(id);
    await store.setBindings(id, [binding('B', 'New'), binding('C')], { recorded });
    expect(await codes(id)).toEqual([
      { code: 'B', title: 'New' },
      { code: 'C', title: null },
    ]);
  });

  it('a reading another writer has overtaken (it recorded some since) is replaced by what is stored', async () => {
    const { store } = subject;
    const { id } = await store.save(portal());
    // Read as empty (a first install), then another install of the same portal records A.
    const recorded: never[] = [];
    await store.setBindings(id, [binding('A')]);
    await store.setBindings(id, [binding('A', 'Titled'), binding('B')], {
      recorded,
      status: { status: 'active', error: null },
    });
    expect(await codes(id)).toEqual([
      { code: 'A', title: 'Titled' },
      { code: 'B', title: null },
    ]);
    expect((await store.findById(id))?.status).toBe('active');
  });

  it('writes the status with the bindings, and neither when the write is refused', async () => {
    const { store } = subject;
    let told = 0;
    store.onInstallationWrite(() => told++);
    const { id } = await store.save(portal());
    told = 0;
    await store.setBindings(id, [binding('A')], { recorded: [], status: { status: 'active', error: null } });
    expect(await store.findById(id)).toMatchObject({ status: 'active', lastError: null });
    expect(told).toBe(1);
    // The same new binding named twice: the unique index refuses the write, status included.
    await expect(
      store.setBindings(id, [binding('A'), binding('B'), binding('B', 'again')], {
        status: { status: 'new', error: 'binding failed: X (ERROR)' },
      }),
    ).rejects.toThrow();
    expect(await store.findById(id)).toMatchObject({ status: 'active', lastError: null });
    expect(await codes(id)).toEqual([{ code: 'A', title: null }]);
    // Unchanged bindings and a status: the status alone is written.
    await store.setBindings(id, [binding('A')], {
      recorded: await store.listBindings(id),
      status: { status: 'new', error: 'binding failed: B (ERROR)' },
    });
    expect(await store.findById(id)).toMatchObject({ status: 'new', lastError: 'binding failed: B (ERROR)' });
    expect(told).toBe(2);
  });
});
