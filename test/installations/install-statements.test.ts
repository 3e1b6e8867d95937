// What an install costs the database: the statements Prisma sends (its query log), on the suite's
// database, for a first install and a reinstall driven by the emulated portal over real HTTP.
// An install binds first (with the grant's own access token), then writes once. A first install
// reads only the installation row (the reload check needs it), then sends one transaction: the
// pending-install cleanup, and the installation created with its final status, its tokens and
// its bindings nested (Prisma reads the created row back before the COMMIT). A reinstall reads
// the recorded bindings too, and its transaction upserts the installation and its tokens.
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { ReusingBetterSqlite3 } from '../../src/db/sqlite-statements.js';
import { sqliteFile } from '../../src/db/url.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { PrismaClient as PgPrismaClient } from '../../src/generated/prisma-pg/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type Stack, startStack } from '../helpers/stack.js';

/** A client on the test database that logs every statement it sends. */
function loggingClient(testDb: TestDatabase, statements: string[]): Db {
  const log = [{ emit: 'event' as const, level: 'query' as const }];
  const db =
    testDb.provider === 'sqlite'
      ? new PrismaClient({ adapter: new ReusingBetterSqlite3({ url: sqliteFile(testDb.url) }), log })
      : (new PgPrismaClient({
          adapter: new PrismaPg({ connectionString: testDb.url }),
          log,
        }) as unknown as Db);
  (db as unknown as { $on(event: 'query', listener: (e: { query: string }) => void): void }).$on(
    'query',
    (e) => statements.push(e.query),
  );
  return db;
}

/**
 * A statement as `verb table`, e.g. `SELECT Installation`, `COMMIT`. A transaction's BEGIN is
 * sent by the driver adapter and is not in the log; its COMMIT is.
 */
function shape(sql: string): string {
  const verb = sql.trim().split(/\s+/)[0]!.toUpperCase();
  const table = /(?:FROM|INTO|UPDATE)\s+(?:[`"]\w+[`"]\.)?[`"](\w+)[`"]/i.exec(sql)?.[1];
  return table ? `${verb} ${table}` : verb;
}

const statements: string[] = [];
let testDb: TestDatabase;
let db: Db;
let stack: Stack;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = loggingClient(testDb, statements);
  stack = await startStack({
    testDb: { ...testDb, db },
    emulator: { portals: [{ memberId: 'cafe0001' }, { memberId: 'cafe0002' }] },
  });
});
afterAll(async () => {
  await stack?.close();
  await db?.$disconnect();
  await testDb?.close();
});

async function install(memberId: string): Promise<string[]> {
  statements.length = 0;
  const res = await stack.emulator.installApp(memberId);
  expect(res.status).toBe(200);
  // The shared rate budget's statement before each REST request (PostgreSQL) is the REST
  // client's, not the install's.
  return statements.map(shape).filter((s) => s !== 'INSERT PortalRateBudget');
}

/** An upsert is one INSERT … ON CONFLICT statement on both databases. */
const upsert = (table: string) => `INSERT ${table}`;

describe('statements per install', () => {
  it('a first install: one read, then one transaction (installation, status, tokens, bindings)', async () => {
    expect(await install('cafe0001')).toEqual([
      'SELECT Installation',
      'DELETE PendingInstall',
      'INSERT Installation',
      'INSERT OAuthToken',
      'INSERT Binding',
      'SELECT Installation',
      'COMMIT',
    ]);
    const stored = (await stack.app.installations.find('cafe0001'))!;
    expect(stored.status).toBe('active');
    const recorded = await stack.app.installations.listBindings(stored.id);
    expect(recorded.map(({ boundAt: _at, ...b }) => b)).toEqual(
      stack.app.installer
        .desired('en')
        .map(({ kind, code, handler, title }) => ({ kind, code, handler, title })),
    );
  });

  it('a reinstall reads the recorded bindings once, then one transaction with nothing for them when unchanged', async () => {
    await install('cafe0002');
    expect(await install('cafe0002')).toEqual([
      'SELECT Installation',
      'SELECT Binding',
      upsert('Installation'),
      'DELETE PendingInstall',
      upsert('OAuthToken'),
      'COMMIT',
    ]);
  });
});
