// Widget open throughput: the real app (payload parse, validation, installation lookup,
// verification cache hit, view cache hit, render) against the bare route (same body parser,
// same template, no logic). Each server runs in its own process; autocannon drives both from
// this one, on loopback, at 50 connections, one after the other in the same run.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { migrate } from '../src/db/migrate.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { freePort } from '../test/helpers/net.js';
import { createTempPgDatabase } from '../test/helpers/postgres.js';

const PORTALS = Array.from({ length: 10 }, (_, i) => `be7c0${String(i).padStart(3, '0')}`);
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 8);

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export interface WidgetResult {
  provider: 'sqlite' | 'postgresql';
  settings: { app: Measured; bare: Measured };
  block: { app: Measured; bare: Measured };
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  // BENCH_PROFILE=dir writes a CPU profile of the app process there (open it in Chrome DevTools).
  const profile =
    process.env.BENCH_PROFILE && args[0] === 'src/server.ts'
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
      : [];
  return spawn(process.execPath, [...profile, '--import', 'tsx', ...args], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: 'ignore',
  });
}

async function healthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not start`);
}

async function drive(url: string, requests: { path: string; body: string }[]): Promise<Measured> {
  let next = 0;
  const run = (duration: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (request) => {
            const r = requests[next++ % requests.length]!;
            return { ...request, path: r.path, body: r.body };
          },
        },
      ],
    });
  await run(2); // warm-up: JIT, template cache, connection pools
  const result = await run(DURATION_S);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export async function widgetOpenBench(provider: 'sqlite' | 'postgresql'): Promise<WidgetResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'bench-'));
  const pg = provider === 'postgresql' ? await createTempPgDatabase('bench') : null;
  const databaseUrl = pg?.url ?? `file:${join(tmp, 'app.db')}`;
  await migrate(databaseUrl);
  const [appPort, barePort] = [await freePort(), await freePort()];
  const appUrl = `http://127.0.0.1:${appPort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  let emulator: EmulatorHandle | undefined;
  const children: ChildProcess[] = [];
  try {
    emulator = await startEmulator({
      appUrl,
      portals: PORTALS.map((memberId) => ({ memberId })),
      limits: { bucketSize: 10_000, drainPerSecond: 1_000 },
    });
    children.push(
      start(['src/server.ts'], {
        HOST: '127.0.0.1',
        PORT: String(appPort),
        PUBLIC_URL: appUrl,
        DATABASE_URL: databaseUrl,
        B24_OAUTH_URL: emulator.oauthUrl,
        B24_CLIENT_ID: emulator.apps[0]!.clientId,
        B24_CLIENT_SECRET: emulator.apps[0]!.clientSecret,
        B24_ALLOW_HTTP: 'true',
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        // autocannon is one address hammering a few portals: lift our own request limits.
        RATE_LIMIT_PER_IP: '100000000',
        RATE_LIMIT_PER_PORTAL: '100000000',
        LOG_LEVEL: 'warn',
      }),
      start(['bench/bare-server.ts', String(barePort)], {}),
    );
    await Promise.all([healthy(appUrl), healthy(bareUrl)]);
    const settings: { path: string; body: string }[] = [];
    const block: { path: string; body: string }[] = [];
    for (const m of PORTALS) {
      if ((await emulator.installApp(m)).status !== 200) throw new Error(`install failed on ${m}`);
      emulator.finishInstall(m);
      for (const [placement, into] of [
        ['LANDING_SETTINGS', settings],
        ['LANDING_BLOCK_*', block],
      ] as const) {
        const open = await emulator.openPlacement(m, { placement });
        if (open.status !== 200) throw new Error(`open ${placement} failed on ${m}: ${open.status}`);
        const url = new URL(open.payload.action);
        into.push({
          path: `${url.pathname}${url.search}`,
          body: new URLSearchParams(open.payload.body).toString(),
        });
      }
    }
    return {
      provider,
      settings: { bare: await drive(bareUrl, settings), app: await drive(appUrl, settings) },
      block: { bare: await drive(bareUrl, block), app: await drive(appUrl, block) },
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await emulator?.close();
    await pg?.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
