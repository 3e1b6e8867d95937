// Applies prisma/migrations (SQLite) or prisma/pg/migrations (PostgreSQL) without Prisma's
// schema-engine binary, recording each one in `_prisma_migrations` exactly as
// `prisma migrate deploy` does, so either tool can take over from the other.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PROJECT_ROOT } from '../paths.js';
import { type Provider, providerOf, redactUrl, sqliteFile } from './url.js';

const projectRoot = PROJECT_ROOT;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  provider: Provider;
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function migrationsDir(provider: Provider, root = projectRoot): string {
  return provider === 'sqlite'
    ? join(root, 'prisma', 'migrations')
    : join(root, 'prisma', 'pg', 'migrations');
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder not found: ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** Refuses to go on past a migration that was edited after it was applied, or one that failed half-way. */
function pending(migrations: Migration[], applied: AppliedRow[]): Migration[] {
  const done = new Map<string, AppliedRow>();
  for (const row of applied) {
    if (row.rolled_back_at != null) continue;
    if (row.finished_at == null) {
      throw new MigrationError(
        `migration ${row.migration_name} started but never finished; inspect the database, then mark it rolled back`,
      );
    }
    done.set(row.migration_name, row);
  }
  for (const migration of migrations) {
    const row = done.get(migration.name);
    if (row && row.checksum !== migration.checksum) {
      throw new MigrationError(
        `migration ${migration.name} was modified after it was applied (checksum mismatch)`,
      );
    }
  }
  return migrations.filter((m) => !done.has(m.name));
}

const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

function migrateSqlite(databaseUrl: string, migrations: Migration[]): string[] {
  const file = sqliteFile(databaseUrl);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file, { timeout: 10_000 });
  try {
    // WAL lets readers proceed during writes and avoids an fsync per commit; it persists in the file.
    sqlite.pragma('journal_mode = WAL');
    // BEGIN IMMEDIATE serializes concurrent starters (two processes migrating at once).
    sqlite.exec(SQLITE_TABLE);
    const run = sqlite.transaction(() => {
      const rows = sqlite.prepare('SELECT * FROM "_prisma_migrations"').all() as AppliedRow[];
      const todo = pending(migrations, rows);
      const insert = sqlite.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
      );
      for (const migration of todo) {
        const startedAt = Date.now();
        sqlite.exec(migration.sql);
        insert.run(randomUUID(), migration.checksum, Date.now(), migration.name, startedAt);
      }
      return todo.map((m) => m.name);
    });
    return run.immediate();
  } finally {
    sqlite.close();
  }
}

const PG_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

// Same key Prisma's migrate uses, so our runner and `prisma migrate deploy` exclude each other.
const PG_ADVISORY_LOCK = 72707369;

async function migratePostgres(databaseUrl: string, migrations: Migration[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new MigrationError(
      `cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${(error as Error).message}`,
    );
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_ADVISORY_LOCK]);
    await client.query(PG_TABLE);
    const { rows } = await client.query<AppliedRow>('SELECT * FROM "_prisma_migrations"');
    const applied: string[] = [];
    for (const migration of pending(migrations, rows)) {
      await client.query('BEGIN');
      try {
        const id = randomUUID();
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
          [id],
        );
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PG_ADVISORY_LOCK]).catch(() => {});
    await client.end();
  }
}

const isBusy = (error: unknown) =>
  String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_BUSY');

/**
 * Runs `work` again while SQLite answers SQLITE_BUSY, for up to `forMs`. Some lock conflicts are
 * answered at once, without waiting out the busy timeout: two processes opening a new file and
 * switching it to WAL together did (test/db/concurrent-start.test.ts, on a loaded machine).
 * Migrating is idempotent, so the whole step is simply run again.
 */
export async function retryWhileBusy<T>(work: () => T, forMs = 10_000): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (;;) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= giveUpAt) throw error;
      await sleep(20 + Math.random() * 30);
    }
  }
}

export async function migrate(databaseUrl: string, root = projectRoot): Promise<MigrateResult> {
  const provider = providerOf(databaseUrl);
  const migrations = readMigrations(migrationsDir(provider, root));
  const applied =
    provider === 'sqlite'
      ? await retryWhileBusy(() => migrateSqlite(databaseUrl, migrations))
      : await migratePostgres(databaseUrl, migrations);
  return { provider, applied, alreadyApplied: migrations.length - applied.length };
}

export interface MigrationStatus {
  provider: Provider;
  applied: string[];
  /** Migrations in the project that the database has not had yet, oldest first. */
  pending: string[];
}

/**
 * What `migrate` would do, without doing it (no lock, no writes, no file created): the doctor's
 * view. Throws MigrationError when the database cannot be read, or a migration was edited or
 * left half-applied.
 */
export async function migrationStatus(databaseUrl: string, root = projectRoot): Promise<MigrationStatus> {
  const provider = providerOf(databaseUrl);
  const migrations = readMigrations(migrationsDir(provider, root));
  const rows = provider === 'sqlite' ? readSqliteRows(databaseUrl) : await readPostgresRows(databaseUrl);
  const todo = pending(migrations, rows);
  return {
    provider,
    applied: migrations.filter((m) => !todo.includes(m)).map((m) => m.name),
    pending: todo.map((m) => m.name),
  };
}

function readSqliteRows(databaseUrl: string): AppliedRow[] {
  const file = sqliteFile(databaseUrl);
  if (file === ':memory:') return [];
  if (!existsSync(file)) throw new MigrationError(`database file ${file} does not exist`);
  const sqlite = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const table = sqlite
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`)
      .get();
    return table ? (sqlite.prepare('SELECT * FROM "_prisma_migrations"').all() as AppliedRow[]) : [];
  } finally {
    sqlite.close();
  }
}

async function readPostgresRows(databaseUrl: string): Promise<AppliedRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new MigrationError(
      `cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${(error as Error).message}`,
    );
  }
  try {
    const { rows: found } = await client.query(`SELECT to_regclass('"_prisma_migrations"') AS t`);
    if (found[0]?.t == null) return [];
    return (await client.query<AppliedRow>('SELECT * FROM "_prisma_migrations"')).rows;
  } finally {
    await client.end();
  }
}
