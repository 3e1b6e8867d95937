// Proves prisma/schema.prisma and the hand-applied migration SQL describe the same database,
// on both providers. Fails when someone edits one without the other.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffToSchema, layout } from '../../scripts/schema-engine.mjs';
import { migrate } from '../../src/db/migrate.js';
import { createTempPgDatabase } from '../helpers/postgres.js';

describe('SQLite: migrations reproduce the schema', () => {
  it('the schema engine finds nothing to add after the migrations', async () => {
    const { exitCode, sql } = await diffToSchema('sqlite', 'migrations');
    expect(sql).toContain('empty migration');
    expect(exitCode).toBe(0);
  });

  it('detects a column the migrations lack (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drift-'));
    try {
      const paths = layout('sqlite');
      const schema = join(dir, 'schema.prisma');
      const changed = readFileSync(paths.schema, 'utf8').replace(
        '  lang             String?',
        '  lang             String?\n  plan String?',
      );
      writeFileSync(schema, changed);
      cpSync(paths.migrations, join(dir, 'migrations'), { recursive: true });
      const { exitCode, sql } = await diffToSchema('sqlite', 'migrations', undefined, {
        schema,
        migrations: join(dir, 'migrations'),
      });
      expect(exitCode).toBe(2);
      expect(sql).toContain('"plan" TEXT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The wasm engine cannot describe a PostgreSQL database through the pg adapter (it fails on
 * the catalog's "char" columns), so compare catalogs instead: one database built by our
 * migrations, one by the engine's SQL for the schema from empty.
 */
async function catalog(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default, character_maximum_length, datetime_precision
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
        ORDER BY table_name, column_name`,
    );
    const indexes = await client.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY indexname`,
    );
    const constraints = await client.query(
      `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'
        ORDER BY conname`,
    );
    return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
  } finally {
    await client.end();
  }
}

describe('PostgreSQL: migrations reproduce the schema', () => {
  const dbs: { url: string; drop: () => Promise<void> }[] = [];
  let fromSchemaSql = '';
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) dbs.push(await createTempPgDatabase('drift'));
    const shadow = dbs[2]!;
    fromSchemaSql = (await diffToSchema('postgresql', 'empty', shadow.url)).sql;
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  it('a migrated database and a database built from schema.prisma have identical catalogs', async () => {
    const [migrated, fromSchema] = dbs as [(typeof dbs)[0], (typeof dbs)[0]];
    await migrate(migrated.url);
    const client = new pg.Client({ connectionString: fromSchema.url });
    await client.connect();
    await client.query(fromSchemaSql);
    await client.end();
    const a = await catalog(migrated.url);
    const b = await catalog(fromSchema.url);
    expect(a.columns.length).toBeGreaterThan(20);
    expect(a).toEqual(b);
  });

  it('detects a column the migrations lack (the check can fail)', async () => {
    const [migrated, fromSchema] = dbs as [(typeof dbs)[0], (typeof dbs)[0]];
    const client = new pg.Client({ connectionString: fromSchema.url });
    await client.connect();
    await client.query('ALTER TABLE "Installation" ADD COLUMN "plan" TEXT');
    await client.end();
    expect(await catalog(migrated.url)).not.toEqual(await catalog(fromSchema.url));
  });
});
