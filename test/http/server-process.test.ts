// The production entry point as a user runs it: refuses bad config before listening, names
// an unreachable database without its password, and serves /healthz when all is well.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'server-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(env: Record<string, string>): {
  child: ChildProcess;
  done: Promise<{ code: number | null; output: string }>;
} {
  // node itself with tsx's loader, not the tsx wrapper: a signal reaches the server directly
  // (the wrapper's signal relay lost SIGTERM under load and exited 143).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  return { child, done };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('src/server.ts', () => {
  it('exits non-zero with one line per configuration problem', async () => {
    const { code, output } = await run({ PORT: 'x' }).done;
    expect(code).toBe(78);
    expect(output).toMatch(/PORT must be a port number/);
    expect(output).toMatch(/PUBLIC_URL is required/);
    expect(output).toMatch(/B24_CLIENT_ID is required/);
    expect(output).toMatch(/B24_CLIENT_SECRET is required/);
  });

  it('names an unreachable database without its password', async () => {
    const { code, output } = await run({
      PUBLIC_URL: 'http://127.0.0.1:1',
      B24_CLIENT_ID: 'a',
      B24_CLIENT_SECRET: 'b',
      DATABASE_URL: 'postgresql://app:topsecret@127.0.0.1:1/app',
      // PostgreSQL needs the key (no key file: replicas must share one).
      TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
    }).done;
    expect(code).toBe(1);
    expect(output).toContain('postgresql://app:***@127.0.0.1:1/app');
    expect(output).not.toContain('topsecret');
  });

  it('migrates, listens, answers /healthz and stops on SIGTERM', async () => {
    const port = await freePort();
    const { child, done } = run({
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      B24_CLIENT_ID: 'a',
      B24_CLIENT_SECRET: 'b',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `file:${join(tmp, 'app.db')}`,
    });
    let health: unknown;
    for (let i = 0; i < 100 && !health; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.json())
        .catch(() => undefined);
    }
    expect(health).toEqual({ status: 'ok', database: 'sqlite' });
    child.kill('SIGTERM');
    const { code, output } = await done;
    expect(code).toBe(0);
    expect(output).toContain('database migrated');
  });
});
