// Prepared statements reused on SQLite (src/db/sqlite-statements.ts): each statement text is
// compiled once per connection and run with each call's own parameters and row mode; through
// Prisma the answers are those of freshly prepared statements.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { ReusingBetterSqlite3, reuseStatements } from '../../src/db/sqlite-statements.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';

/** A connection whose compilations are counted, as the adapter uses it (`prepare(sql).bind(args)`). */
function countedConnection(kept?: number) {
  const db = new Database(':memory:');
  const compiled: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    compiled.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  reuseStatements(db, kept);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
  return { db, compiled };
}

describe('reuseStatements', () => {
  it('compiles a statement text once and runs it with each call’s parameters', () => {
    const { db, compiled } = countedConnection();
    const insert = 'INSERT INTO t (id, name) VALUES (?, ?)';
    const select = 'SELECT id, name FROM t WHERE id = ?';
    db.prepare(insert).bind([1, 'one']).run();
    db.prepare(insert).bind([2, 'two']).run();
    expect(db.prepare(select).bind([2]).raw().all()).toEqual([[2, 'two']]);
    expect(db.prepare(select).bind([1]).all()).toEqual([{ id: 1, name: 'one' }]);
    expect(
      db
        .prepare(select)
        .bind([1])
        .columns()
        .map((c) => c.name),
    ).toEqual(['id', 'name']);
    expect(db.prepare(select).reader).toBe(true);
    expect(db.prepare(insert).reader).toBe(false);
    expect(compiled).toEqual([insert, select]);
  });

  it('keeps only the most recently used texts', () => {
    const { db, compiled } = countedConnection(2);
    compiled.length = 0;
    const query = (n: number) => db.prepare(`SELECT ${n} AS n`).bind([]).raw().all();
    query(1);
    query(2);
    query(1);
    query(3); // drops 2, the least recently used
    query(1);
    query(2);
    expect(compiled).toEqual(['SELECT 1 AS n', 'SELECT 2 AS n', 'SELECT 3 AS n', 'SELECT 2 AS n']);
  });
});

describe('Prisma on ReusingBetterSqlite3', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'b24-statements-'));
    const file = join(dir, 'test.db');
    await migrate(`file:${file}`);
    db = new PrismaClient({ adapter: new ReusingBetterSqlite3({ url: file }) });
  });
  afterAll(async () => {
    await db?.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers repeated queries of one shape with each one’s own rows, in and out of transactions', async () => {
    for (const memberId of ['m1', 'm2', 'm3']) {
      await db.installation.create({
        data: { memberId, domain: `${memberId}.example.com`, clientEndpoint: `https://${memberId}/rest/` },
      });
    }
    const domains = await Promise.all(
      ['m3', 'm1', 'm2', 'none'].map(
        async (memberId) => (await db.installation.findUnique({ where: { memberId } }))?.domain ?? null,
      ),
    );
    expect(domains).toEqual(['m3.example.com', 'm1.example.com', 'm2.example.com', null]);
    await db.$transaction(async (tx) => {
      await tx.installation.update({ where: { memberId: 'm1' }, data: { status: 'active' } });
      await tx.installation.update({ where: { memberId: 'm2' }, data: { status: 'uninstalled' } });
    });
    await expect(
      db.$transaction(async (tx) => {
        await tx.installation.update({ where: { memberId: 'm3' }, data: { status: 'active' } });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const rows = await db.installation.findMany({
      orderBy: { memberId: 'asc' },
      select: { memberId: true, status: true },
    });
    expect(rows).toEqual([
      { memberId: 'm1', status: 'active' },
      { memberId: 'm2', status: 'uninstalled' },
      { memberId: 'm3', status: 'new' },
    ]);
  });
});
