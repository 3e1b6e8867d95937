// App server processes (src/server.ts through tsx) sharing one database: what the scale-out
// suites run as "replicas". Each listens on its own loopback port; its output is kept so a suite
// can check that nothing was logged at error level.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { EmulatorHandle } from 'bitrix24-emulator';

export interface Replica {
  url: string;
  child: ChildProcess;
  output: string[];
}

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became healthy`);
}

/**
 * What every replica of a scale-out suite runs with: the emulator's app and OAuth server, the
 * shared database and key, the REST bucket given, and our own request limits out of the way.
 */
export function replicaEnv(
  emulator: EmulatorHandle,
  shared: { publicUrl: string; databaseUrl: string; tokenKey: string; adminToken: string },
  bucket: { burst: number; perSecond: number },
): Record<string, string> {
  return {
    PUBLIC_URL: shared.publicUrl,
    DATABASE_URL: shared.databaseUrl,
    B24_OAUTH_URL: emulator.oauthUrl,
    B24_CLIENT_ID: emulator.apps[0]!.clientId,
    B24_CLIENT_SECRET: emulator.apps[0]!.clientSecret,
    B24_ALLOW_HTTP: 'true',
    B24_RATE_LIMIT_BURST: String(bucket.burst),
    B24_RATE_LIMIT_PER_SECOND: String(bucket.perSecond),
    RATE_LIMIT_PER_IP: '1000000',
    RATE_LIMIT_PER_PORTAL: '1000000',
    TOKEN_ENCRYPTION_KEY: shared.tokenKey,
    ADMIN_TOKEN: shared.adminToken,
    LOG_LEVEL: 'warn',
  };
}

/** One process per port, each with `env` (plus HOST, PORT, PATH); resolves once all answer /healthz. */
export async function startReplicas(ports: number[], env: Record<string, string>): Promise<Replica[]> {
  const replicas = ports.map((port) => {
    const output: string[] = [];
    const child = spawn(tsx, ['src/server.ts'], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => output.push(String(d)));
    child.stderr?.on('data', (d) => output.push(String(d)));
    return { url: `http://127.0.0.1:${port}`, child, output };
  });
  await Promise.all(replicas.map((r) => waitHealthy(r.url)));
  return replicas;
}

/** SIGTERM to each still running, and waits for every exit. */
export async function stopReplicas(replicas: Replica[]): Promise<void> {
  await Promise.all(
    replicas.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.child.exitCode !== null) return resolve();
          r.child.once('exit', () => resolve());
          r.child.kill('SIGTERM');
        }),
    ),
  );
}
