// The CLI on a database that was never migrated migrates it first (as `npm start` does); on one
// it cannot prepare it stops with one line naming `npm run db:migrate`, never a stack trace.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.js';
import { migrationsDir, readMigrations } from '../../src/db/migrate.js';
import { TEST_PROVIDER } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { createTempPgDatabase } from '../helpers/postgres.js';
import { cliWithEnv } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'cli-db-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const env = (databaseUrl: string) => ({
  NODE_ENV: 'test',
  PUBLIC_URL: 'https://app.example.com',
  B24_CLIENT_ID: 'local.test',
  B24_CLIENT_SECRET: 'secret',
  TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
  DATABASE_URL: databaseUrl,
});

describe('CLI on an unmigrated database', () => {
  it('applies the pending migrations, then runs the command', async () => {
    let url = `file:${join(tmp, 'fresh', 'app.db')}`;
    let drop = async () => {};
    if (TEST_PROVIDER === 'postgresql') ({ url, drop } = await createTempPgDatabase('cli'));
    try {
      const names = readMigrations(migrationsDir(TEST_PROVIDER)).map((m) => m.name);
      const run = await cliWithEnv(['installations'], env(url));
      expect(run.stderr).toBe(`database migrated: ${names.join(', ')}\n`);
      expect(run.stdout).toBe('no installations\n');
      expect(run.code).toBe(0);
      const { db } = createDb(url);
      try {
        expect(await db.installation.count()).toBe(0);
      } finally {
        await db.$disconnect();
      }
      // Already migrated: nothing to say about the database.
      const again = await cliWithEnv(['installations'], env(url));
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    } finally {
      await drop();
    }
  });

  it('stops with one line naming npm run db:migrate when the database cannot be prepared', async () => {
    const url =
      TEST_PROVIDER === 'sqlite'
        ? // A directory where the database file should be: it cannot be opened.
          `file:${tmp}`
        : `postgresql://postgres@127.0.0.1:${await freePort()}/app`;
    const run = await cliWithEnv(['installations'], env(url));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: cannot prepare the database at .*; fix that, then run npm run db:migrate$/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
