// Widget open throughput: the real app (payload parse, validation, rate limits, installation
// lookup, verification cache hit, view cache hit, the page kept for that view and sealed
// context) against the bare route (same body parser, same template rendered every time, no
// logic). Each server runs in its own process (production entry for the app); autocannon
// drives both from this one, on loopback, one after the other in one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { migrate } from '../src/db/migrate.js';
import { freePort } from '../test/helpers/net.js';
import { createTempPgDatabase } from '../test/helpers/postgres.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, profileFlags, type ServerProcess, startServer } from './lib/child.js';
import { drive, type FormRequest, type Measured } from './lib/load.js';
import { ratio } from './lib/machine.js';
import { installAll, memberIds, widgetRequest } from './lib/portals.js';

const PORTALS = memberIds('be7c0', 10);
const USERS = [1, 2];
export const CONNECTIONS = 50;
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = 3;

export type Provider = 'sqlite' | 'postgresql';

export interface WidgetResult {
  provider: Provider;
  settings: { app: Measured; bare: Measured };
  block: { app: Measured; bare: Measured };
}

/** 10 portals × 2 users × (settings, block): each payload's verification and view are cached once warm. */
async function payloads(emulator: EmulatorHandle) {
  const settings: FormRequest[] = [];
  const block: FormRequest[] = [];
  for (const m of PORTALS) {
    for (const user of USERS) {
      settings.push(await widgetRequest(emulator, m, 'LANDING_SETTINGS', user));
      block.push(await widgetRequest(emulator, m, 'LANDING_BLOCK_*', user));
    }
  }
  return { settings, block };
}

export async function widgetOpenBench(provider: Provider): Promise<WidgetResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'bench-'));
  const pg = provider === 'postgresql' ? await createTempPgDatabase('bench') : null;
  const databaseUrl = pg?.url ?? `file:${join(tmp, 'app.db')}`;
  await migrate(databaseUrl);
  const [appPort, barePort] = [await freePort(), await freePort()];
  let emulator: EmulatorHandle | undefined;
  const servers: ServerProcess[] = [];
  try {
    emulator = await startEmulator({
      appUrl: `http://127.0.0.1:${appPort}`,
      portals: PORTALS.map((memberId) => ({ memberId })),
      limits: { bucketSize: 10_000, drainPerSecond: 1_000 },
    });
    const env = appEnv(emulator, `http://127.0.0.1:${appPort}`, databaseUrl);
    const app = await startServer(APP_ENTRY, appPort, { env, nodeFlags: profileFlags() });
    servers.push(app);
    const bare = await startServer('bench/bare-server.ts', barePort, { nodeFlags: profileFlags() });
    servers.push(bare);
    await installAll(emulator, PORTALS);
    const { settings, block } = await payloads(emulator);
    const options = { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS };
    // BENCH_ONLY=app skips the bare route (a CPU profile of the app alone).
    const skipBare = process.env.BENCH_ONLY === 'app';
    const none: Measured = {
      rps: Number.NaN,
      p50: Number.NaN,
      p99: Number.NaN,
      non2xx: 0,
      errors: 0,
      requests: 0,
      cpuMicrosPerRequest: Number.NaN,
    };
    const measure = async (requests: FormRequest[]) => ({
      bare: skipBare ? none : await drive(bare.url, requests, options, bare.pid),
      app: await drive(app.url, requests, options, app.pid),
    });
    return { provider, settings: await measure(settings), block: await measure(block) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await emulator?.close();
    await pg?.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function widgetTable(results: WidgetResult[]): string {
  const cell = (m: Measured) =>
    `${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, CPU ${Math.round(m.cpuMicrosPerRequest)} µs/req`;
  const rows = results.flatMap((r) =>
    (['settings', 'block'] as const).map((page) => {
      const { app, bare } = r[page];
      return `| ${r.provider} | /placements/${page} | ${cell(app)} | ${cell(bare)} | ${ratio(app.rps / bare.rps)} | ${ratio(app.p99 / Math.max(bare.p99, 1))} | ${ratio(bare.cpuMicrosPerRequest / app.cpuMicrosPerRequest)} | ${app.non2xx + app.errors} |`;
    }),
  );
  return [
    '| database | route | app | bare route | throughput ratio (goal ≥ 0.75) | p99 ratio (goal ≤ 1.5) | CPU per request, bare ÷ app | app non-2xx + errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
