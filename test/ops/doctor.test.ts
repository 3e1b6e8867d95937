// `npm run cli -- doctor` against a running app, emulated portals and OAuth server, on the
// suite's database: it passes on a healthy deployment and names each problem with what to do.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir, readMigrations } from '../../src/db/migrate.js';
import { TEST_PROVIDER } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { createTempPgDatabase } from '../helpers/postgres.js';
import { type CliRun, cli, cliWithEnv, MEMBER_IDS, type OpsStack, startOpsStack } from './helpers.js';

const PORTALS = MEMBER_IDS.slice(0, 2);
const MIGRATIONS = readMigrations(migrationsDir(TEST_PROVIDER)).map((m) => m.name);

let stack: OpsStack;
let closedPort: number;
const tmp = mkdtempSync(join(tmpdir(), 'doctor-'));
beforeAll(async () => {
  stack = await startOpsStack({ portals: PORTALS });
  closedPort = await freePort();
});
afterAll(async () => {
  await stack?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The doctor next to the stack's app; the OAuth servers a portal may name are the emulator's. */
const doctor = (env: Record<string, string | undefined> = {}) =>
  cli(stack, ['doctor'], { B24_OAUTH_SERVERS: stack.emulator.oauthUrl, ...env });

/** The lines of one check, e.g. `FAIL  token key  ...`. */
const lines = (run: CliRun, check: string) =>
  run.stdout.split('\n').filter((l) => new RegExp(`^(ok  |FAIL|skip|info)  ${check} +`).test(l));

describe('doctor', () => {
  it('passes on a healthy deployment: one ok line per check, installations summarised, exit 0', async () => {
    const run = await doctor();
    expect(run.stdout).toContain('doctor: all checks passed');
    expect(run.code).toBe(0);
    expect(lines(run, 'configuration')[0]).toMatch(/^ok {4}configuration +NODE_ENV=test/);
    expect(lines(run, 'database')[0]).toMatch(
      new RegExp(`^ok .*reachable, ${MIGRATIONS.length} migration\\(s\\) applied`),
    );
    const sealed =
      2 * (await stack.testDb.db.oAuthToken.count()) +
      (await stack.testDb.db.installation.count({ where: { applicationToken: { not: null } } }));
    expect(sealed).toBeGreaterThanOrEqual(4);
    expect(lines(run, 'token key')[0]).toMatch(
      new RegExp(`^ok .*TOKEN_ENCRYPTION_KEY .*decrypts all ${sealed} stored token value`),
    );
    expect(lines(run, 'public url')[0]).toMatch(/^ok .*http accepted: B24_ALLOW_HTTP=true/);
    expect(lines(run, 'oauth server')).toEqual([
      expect.stringMatching(new RegExp(`^ok .*${stack.emulator.oauthUrl} answered \\(HTTP \\d+\\)`)),
    ]);
    expect(lines(run, 'healthz')[0]).toMatch(
      new RegExp(`^ok .*${stack.appUrl}/healthz: ok \\(${TEST_PROVIDER}\\)`),
    );
    expect(lines(run, 'installations')[0]).toMatch(/^info .*2 active$/);
  });

  it('names a key that cannot decrypt the stored tokens, and what to do', async () => {
    const run = await doctor({ TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') });
    expect(run.code).toBe(1);
    expect(lines(run, 'token key')[0]).toMatch(
      /^FAIL .*cannot decrypt the stored tokens of 2 portal\(s\): set TOKEN_ENCRYPTION_KEY to the key they were sealed with/,
    );
    // The old key as a previous one opens them again.
    const rotated = await doctor({
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEY_PREVIOUS: stack.key,
    });
    expect(lines(rotated, 'token key')[0]).toMatch(/^ok /);
  });

  it('finds a token stored in plaintext', async () => {
    const row = (await stack.testDb.db.oAuthToken.findFirst())!;
    await stack.testDb.db.oAuthToken.update({
      where: { installationId: row.installationId },
      data: { accessToken: 'plain-token' },
    });
    try {
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(lines(run, 'token key')[0]).toMatch(
        /^FAIL +token key +1 stored token value\(s\) are plaintext.*rotate-key/,
      );
    } finally {
      await stack.testDb.db.oAuthToken.update({
        where: { installationId: row.installationId },
        data: { accessToken: row.accessToken },
      });
    }
  });

  it('fails an http PUBLIC_URL outside emulator mode and an unreachable OAuth server', async () => {
    const dead = `http://127.0.0.1:${closedPort}`;
    const run = await doctor({
      B24_ALLOW_HTTP: 'false',
      B24_OAUTH_SERVERS: `${stack.emulator.oauthUrl},${dead}`,
    });
    expect(run.code).toBe(1);
    expect(lines(run, 'public url')[0]).toMatch(/^FAIL .*must be https:\/\/.*put the app behind TLS/);
    const oauth = lines(run, 'oauth server');
    expect(oauth).toHaveLength(2);
    expect(oauth.find((l) => l.includes(dead))).toMatch(
      /^FAIL .*is not reachable \(ECONNREFUSED\): allow outbound/,
    );
    expect(oauth.find((l) => l.includes(stack.emulator.oauthUrl))).toMatch(/^ok /);
    expect(run.stdout).toContain('doctor: 2 problem(s)');
  });

  it('skips /healthz when nothing answers at PUBLIC_URL yet, but fails when something else does', async () => {
    const notRunning = await doctor({ PUBLIC_URL: `http://127.0.0.1:${closedPort}` });
    expect(lines(notRunning, 'healthz')[0]).toMatch(/^skip .*not reachable from here/);
    expect(notRunning.code).toBe(0);

    // A proxy whose app is down, and a server that is not this app (200 without our answer).
    const server = createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/down/') ? 502 : 200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const down = await doctor({ PUBLIC_URL: `http://127.0.0.1:${port}/down` });
      expect(lines(down, 'healthz')[0]).toMatch(/^FAIL .*\/healthz answered HTTP 502: look at the app's log/);
      expect(down.code).toBe(1);
      const other = await doctor({ PUBLIC_URL: `http://127.0.0.1:${port}/other` });
      expect(lines(other, 'healthz')[0]).toMatch(
        /^FAIL .*answered, but not as this app on .*PUBLIC_URL must route/,
      );
      expect(other.code).toBe(1);
    } finally {
      server.close();
    }
  });

  it('names the pending migrations of a database migrated only part-way, and changes nothing', async () => {
    const root = join(tmp, 'partial');
    cpSync(join(process.cwd(), 'prisma'), join(root, 'prisma'), { recursive: true });
    const dir = migrationsDir(TEST_PROVIDER, root);
    for (const name of MIGRATIONS.slice(1)) rmSync(join(dir, name), { recursive: true });
    let url = `file:${join(tmp, 'partial.db')}`;
    let drop = async () => {};
    if (TEST_PROVIDER === 'postgresql') ({ url, drop } = await createTempPgDatabase('doc'));
    try {
      await migrate(url, root);
      const run = await doctor({ DATABASE_URL: url });
      expect(run.code).toBe(1);
      expect(lines(run, 'database')[0]).toMatch(
        new RegExp(
          `^FAIL .*${MIGRATIONS.length - 1} migration\\(s\\) not applied \\(${MIGRATIONS.slice(1).join(', ')}\\): run npm run db:migrate`,
        ),
      );
      const again = await doctor({ DATABASE_URL: url });
      expect(lines(again, 'database')[0]).toMatch(/not applied/);
      expect((await migrate(url)).applied).toEqual(MIGRATIONS.slice(1));
    } finally {
      await drop();
    }
  });

  it('names a database it cannot reach, creating nothing', async () => {
    const missing = join(tmp, 'nowhere', 'app.db');
    const url =
      TEST_PROVIDER === 'sqlite' ? `file:${missing}` : `postgresql://postgres@127.0.0.1:${closedPort}/app`;
    const run = await doctor({ DATABASE_URL: url });
    expect(run.code).toBe(1);
    expect(lines(run, 'database')[0]).toMatch(
      TEST_PROVIDER === 'sqlite'
        ? /^FAIL .*does not exist: start the app once or run npm run db:migrate/
        : /^FAIL .*cannot reach PostgreSQL at .*: check DATABASE_URL/,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('reports bad configuration line by line (exit 78)', async () => {
    const run = await doctor({ DATABASE_URL: 'mysql://nope', PORT: 'x' });
    expect(run.code).toBe(78);
    expect(lines(run, 'configuration')).toEqual([
      expect.stringMatching(/^FAIL .*PORT must be a port number.*see \.env\.example/),
      expect.stringMatching(/^FAIL .*DATABASE_URL must start with file:/),
    ]);
  });

  it('runs as a process (npm run cli -- doctor) with the exit code of its findings', async () => {
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, ['src/cli.ts', 'doctor'], {
      env: { PATH: process.env.PATH ?? '', ...stack.env, B24_OAUTH_SERVERS: stack.emulator.oauthUrl },
      stdio: 'pipe',
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stdout).toContain('doctor: all checks passed');
    expect(code).toBe(0);
  });

  it('is listed in --help', async () => {
    expect((await cliWithEnv(['--help'], {})).stdout).toMatch(/^ {2}doctor +check the deployment/m);
  });
});
