// Servers under test run in their own processes, so the load generator (this process) and
// the server do not share an event loop: on 2 cores, one core each.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ServerProcess {
  url: string;
  pid: number;
  /** What the process wrote (stdout + stderr), for error reports. */
  output: string[];
  /** SIGTERM and wait for the exit (a CPU profile is written on exit). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra node flags, e.g. --expose-gc. */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

/** Writes a CPU profile of the app process into this directory (open it in Chrome DevTools). */
export const PROFILE_DIR = process.env.BENCH_PROFILE;

async function healthy(url: string, child: ChildProcess, output: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url} exited: ${output.join('').slice(-2000)}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not start: ${output.join('').slice(-2000)}`);
}

/**
 * The app as it runs in production: the compiled entry (`npm run build`, `node dist/server.js`),
 * not through tsx, whose helpers would be measured too. Built once per bench run.
 */
export const APP_ENTRY = 'dist/server.js';
let built = false;
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  built = true;
}

/**
 * Runs an entry listening on `port` (TypeScript through tsx, JavaScript as it is); resolves
 * once /healthz answers.
 */
export async function startServer(
  script: string,
  port: number,
  options: StartOptions = {},
): Promise<ServerProcess> {
  if (script === APP_ENTRY) buildOnce();
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...loader, script, String(port)], {
    // Only what we pass: no .env or shell variables leak into the measured process.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  // Keep only the tail: a chatty process must not grow this one's memory.
  const keep = (d: Buffer) => {
    output.push(String(d));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  await healthy(url, child, output);
  return {
    url,
    pid: child.pid ?? -1,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The CPU profile flags for the app process when BENCH_PROFILE is set. */
export function profileFlags(): string[] {
  return PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
}
