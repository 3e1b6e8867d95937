// Several app processes (the production entry, src/server.ts) started at once on an empty
// database: each migration is applied exactly once and every process starts. PostgreSQL: three
// (an advisory lock serialises them); SQLite: two (BEGIN IMMEDIATE, and one shared key file).
// Process start-up times vary by more than a migration takes, so a second test has processes
// wait for one instant and then migrate: without the lock, those overlap and fail.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { migrationsDir, readMigrations } from '../../src/db/migrate.js';
import { TEST_PROVIDER } from '../helpers/db.js';
import { createTempPgDatabase } from '../helpers/postgres.js';

const tmp = mkdtempSync(join(tmpdir(), 'concurrent-start-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map(stop));
  rmSync(tmp, { recursive: true, force: true });
});

interface Started {
  listening: boolean;
  output: string;
}

/** Starts `npm start`'s entry through tsx; resolves once it listens, or when it exits. */
function startServer(env: Record<string, string>): Promise<Started> {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, ['src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'pipe',
  });
  children.push(child);
  let output = '';
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Server listening at')) resolve({ listening: true, output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => resolve({ listening: false, output }));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Row {
  migration_name: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

async function appliedRows(url: string): Promise<Row[]> {
  if (TEST_PROVIDER === 'sqlite') {
    const sqlite = new Database(url.slice('file:'.length), { readonly: true });
    try {
      return sqlite.prepare('SELECT * FROM _prisma_migrations').all() as Row[];
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>('SELECT * FROM _prisma_migrations')).rows;
  } finally {
    await client.end();
  }
}

const processes = TEST_PROVIDER === 'postgresql' ? 3 : 2;

it(`${processes} app processes started at once on an empty ${TEST_PROVIDER} database migrate it once and all start`, async () => {
  let url = `file:${join(tmp, 'data', 'app.db')}`;
  let drop = async () => {};
  if (TEST_PROVIDER === 'postgresql') ({ url, drop } = await createTempPgDatabase('start'));
  try {
    const env = {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      PUBLIC_URL: 'https://app.example.com',
      B24_CLIENT_ID: 'local.test',
      B24_CLIENT_SECRET: 'secret',
      B24_KEEPALIVE_INTERVAL_MINUTES: '0',
      DATABASE_URL: url,
      // SQLite: no key, so the processes also race to create the one key file.
      ...(TEST_PROVIDER === 'postgresql' ? { TOKEN_ENCRYPTION_KEY: 'cd'.repeat(32) } : {}),
    };
    const started = await Promise.all(Array.from({ length: processes }, () => startServer(env)));
    for (const s of started) expect(s.listening, s.output).toBe(true);

    const names = readMigrations(migrationsDir(TEST_PROVIDER)).map((m) => m.name);
    const rows = await appliedRows(url);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(names);
    for (const row of rows) {
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
    // Exactly one process reports having migrated; the others found nothing to do.
    expect(started.filter((s) => s.output.includes('database migrated:'))).toHaveLength(1);
    if (TEST_PROVIDER === 'sqlite')
      expect(statSync(`${url.slice('file:'.length)}.key`).mode & 0o777).toBe(0o600);
  } finally {
    await Promise.all(children.map(stop));
    await drop();
  }
}, 90_000);

it(`${processes} processes migrating at the same instant apply each migration once`, async () => {
  let url = `file:${join(tmp, 'instant', 'app.db')}`;
  let drop = async () => {};
  if (TEST_PROVIDER === 'postgresql') ({ url, drop } = await createTempPgDatabase('instant'));
  try {
    const startAt = Date.now() + 4000;
    const script = `import { migrate } from './src/db/migrate.ts';
while (Date.now() < ${startAt});
migrate(${JSON.stringify(url)}).then((result) => console.log(JSON.stringify(result.applied)));`;
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const results = await Promise.all(
      Array.from({ length: processes }, () => {
        const child = spawn(tsx, ['--eval', script], { stdio: 'pipe' });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        return new Promise<{ code: number | null; out: string }>((resolve) =>
          child.on('exit', (code) => resolve({ code, out })),
        );
      }),
    );
    for (const r of results) expect(r.code, r.out).toBe(0);
    const applied = results.flatMap((r) => JSON.parse(r.out) as string[]);
    const names = readMigrations(migrationsDir(TEST_PROVIDER)).map((m) => m.name);
    expect(applied.sort()).toEqual(names);
    expect((await appliedRows(url)).map((r) => r.migration_name).sort()).toEqual(names);
  } finally {
    await drop();
  }
}, 60_000);
