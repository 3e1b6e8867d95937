// App server processes (src/server.ts through tsx) sharing one database: what the scale-out
// suites run as "replicas". Each listens on its own loopback port; its output is kept so a suite
// can check that nothing was logged at error level.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

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
