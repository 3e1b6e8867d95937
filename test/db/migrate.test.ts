import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir, readMigrations, retryWhileBusy } from '../../src/db/migrate.js';
import { createTempPgDatabase } from '../helpers/postgres.js';

const tmp = mkdtempSync(join(tmpdir(), 'migrate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SQLite migrator', () => {
  it('applies once, records like Prisma, and is idempotent', async () => {
    const url = `file:${join(tmp, 'a', 'app.db')}`;
    const first = await migrate(url);
    expect(first.applied).toEqual(readMigrations(migrationsDir('sqlite')).map((m) => m.name));
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    const sqlite = new Database(join(tmp, 'a', 'app.db'));
    const rows = sqlite.prepare('SELECT * FROM _prisma_migrations').all() as Record<string, unknown>[];
    const journal = sqlite.pragma('journal_mode', { simple: true });
    sqlite.close();
    expect(journal).toBe('wal');
    expect(rows).toHaveLength(first.applied.length);
    expect(rows[0]).toMatchObject({
      migration_name: first.applied[0],
      checksum: readMigrations(migrationsDir('sqlite'))[0]?.checksum,
      applied_steps_count: 1,
      rolled_back_at: null,
    });
    expect(rows[0]?.finished_at).not.toBeNull();
  });

  it('refuses a migration edited after it was applied', async () => {
    const root = join(tmp, 'edited');
    cpSync(join(migrationsDir('sqlite'), '..'), join(root, 'prisma'), { recursive: true });
    const url = `file:${join(root, 'app.db')}`;
    await migrate(url, root);
    const [first] = readMigrations(migrationsDir('sqlite', root));
    appendFileSync(join(migrationsDir('sqlite', root), first!.name, 'migration.sql'), '\n-- edited\n');
    await expect(migrate(url, root)).rejects.toThrow(/modified after it was applied/);
  });

  it('rolls back a failing migration completely', async () => {
    const root = join(tmp, 'failing');
    cpSync(join(migrationsDir('sqlite'), '..'), join(root, 'prisma'), { recursive: true });
    const bad = join(migrationsDir('sqlite', root), '29990101000000_bad');
    cpSync(join(migrationsDir('sqlite', root), readMigrations(migrationsDir('sqlite', root))[0]!.name), bad, {
      recursive: true,
    });
    writeFileSync(join(bad, 'migration.sql'), 'CREATE TABLE "Ok" (id INTEGER);\nTHIS IS NOT SQL;');
    const url = `file:${join(root, 'app.db')}`;
    await expect(migrate(url, root)).rejects.toThrow();
    const sqlite = new Database(join(root, 'app.db'));
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type='table'").all();
    sqlite.close();
    expect(tables).not.toContainEqual({ name: 'Ok' });
    expect(tables).not.toContainEqual({ name: 'Installation' });
  });
});

describe('PostgreSQL migrator', () => {
  it('two processes migrating at once apply each migration exactly once', async () => {
    const temp = await createTempPgDatabase('mig');
    try {
      const results = await Promise.all([migrate(temp.url), migrate(temp.url), migrate(temp.url)]);
      const total = results.reduce((n, r) => n + r.applied.length, 0);
      expect(total).toBe(readMigrations(migrationsDir('postgresql')).length);
      const client = new pg.Client({ connectionString: temp.url });
      await client.connect();
      const { rows } = await client.query(
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations',
      );
      await client.end();
      expect(rows).toHaveLength(total);
      expect(rows[0].finished_at).toBeInstanceOf(Date);
      expect(rows[0].applied_steps_count).toBe(1);
    } finally {
      await temp.drop();
    }
  });

  it('names the URL without its password when PostgreSQL is unreachable', async () => {
    await expect(migrate('postgresql://app:s3cret@127.0.0.1:1/none')).rejects.toThrow(
      /cannot reach PostgreSQL at postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/none/,
    );
  });
});

describe('retryWhileBusy (SQLite lock conflicts answered at once)', () => {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

  it('runs the step again while SQLite answers SQLITE_BUSY, then returns its result', async () => {
    let calls = 0;
    const result = await retryWhileBusy(() => {
      calls += 1;
      if (calls < 3) throw busy();
      return 'migrated';
    });
    expect([result, calls]).toEqual(['migrated', 3]);
  });

  it('any other error, or SQLITE_BUSY past the time allowed, is thrown as it is', async () => {
    let calls = 0;
    const other = Object.assign(new Error('no such table'), { code: 'SQLITE_ERROR' });
    await expect(
      retryWhileBusy(() => {
        calls += 1;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
    await expect(
      retryWhileBusy(() => {
        throw busy();
      }, 0),
    ).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
  });
});
