// Cold widget opens at real-world latency (issue #17): every open carries a fresh AUTH_ID (the
// user's token not yet verified), the emulated portal answers every REST and OAuth request after
// LATENCY_MS. The app (production entry) should need one round trip per cold open: the token's
// verification rides in the page's own batch. Opens are sent one at a time, so each measures
// the latency a user feels, not throughput.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { migrate } from '../src/db/migrate.js';
import { freePort } from '../test/helpers/net.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, type ServerProcess, startServer } from './lib/child.js';
import { ratio } from './lib/machine.js';
import { installAll, memberIds } from './lib/portals.js';

export const LATENCY_MS = 150;
export const OPENS = Number(process.env.BENCH_COLD_OPENS ?? 200);
const PORTALS = memberIds('c01d0', 10);

export interface ColdResult {
  page: string;
  opens: number;
  p50Ms: number;
  p99Ms: number;
  /** REST and OAuth requests the portal saw per open. */
  requestsPerOpen: number;
  failed: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

/** A page's POST as the portal sends it, with a fresh token pair of `userId` each time. */
async function template(emulator: EmulatorHandle, memberId: string, page: 'settings' | 'app') {
  const opened =
    page === 'settings'
      ? await emulator.openPlacement(memberId, { placement: 'LANDING_SETTINGS' })
      : await emulator.openApp(memberId);
  if (opened.status !== 200) throw new Error(`${page} on ${memberId}: ${opened.status}`);
  return (userId: number) => {
    const tokens = emulator.issueTokens(memberId, userId);
    const body = opened.payload.body.map(([k, v]): [string, string] => {
      if (k === 'AUTH_ID') return [k, tokens.access_token];
      if (k === 'REFRESH_ID') return [k, tokens.refresh_token];
      return [k, v];
    });
    return { action: opened.payload.action, body: new URLSearchParams(body).toString() };
  };
}

async function measure(emulator: EmulatorHandle, page: 'settings' | 'app'): Promise<ColdResult> {
  emulator.setLatency(0);
  const forms = await Promise.all(PORTALS.map((m) => template(emulator, m, page)));
  emulator.setLatency(LATENCY_MS);
  const requestsBefore = emulator.stats.snapshot();
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < OPENS; i++) {
    // Administrator and ordinary user in turn: both are cold opens of their own.
    const form = forms[i % forms.length]!(i % 2 === 0 ? 1 : 2);
    const started = performance.now();
    const res = await fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.body,
    });
    await res.text();
    times.push(performance.now() - started);
    if (res.status !== 200) failed++;
  }
  const after = emulator.stats.snapshot();
  const rest = (s: typeof after) => PORTALS.reduce((n, m) => n + (s.portals[m]?.restRequests ?? 0), 0);
  const requests =
    rest(after) - rest(requestsBefore) + (after.oauth.requests - requestsBefore.oauth.requests);
  times.sort((a, b) => a - b);
  return {
    page: page === 'settings' ? 'settings widget (POST /placements/settings)' : 'app page (POST /)',
    opens: OPENS,
    p50Ms: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    requestsPerOpen: requests / OPENS,
    failed,
  };
}

export async function coldOpenBench(): Promise<ColdResult[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const databaseUrl = `file:${join(tmp, 'app.db')}`;
  await migrate(databaseUrl);
  const port = await freePort();
  let emulator: EmulatorHandle | undefined;
  let app: ServerProcess | undefined;
  try {
    emulator = await startEmulator({
      appUrl: `http://127.0.0.1:${port}`,
      portals: PORTALS.map((memberId) => ({ memberId })),
      // Latency is measured here, not the portal's rate limit.
      limits: { bucketSize: 10_000, drainPerSecond: 1_000 },
    });
    app = await startServer(APP_ENTRY, port, {
      env: appEnv(emulator, `http://127.0.0.1:${port}`, databaseUrl, {
        B24_RATE_LIMIT_BURST: '10000',
        B24_RATE_LIMIT_PER_SECOND: '1000',
      }),
    });
    await installAll(emulator, PORTALS);
    return [await measure(emulator, 'settings'), await measure(emulator, 'app')];
  } finally {
    await app?.stop();
    await emulator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function coldTable(results: ColdResult[]): string {
  return [
    '| page | cold opens | p50 ms | p50 / latency | p99 ms | p99 / latency | portal requests per open | failed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.page} | ${r.opens} | ${r.p50Ms.toFixed(0)} | ${ratio(r.p50Ms / LATENCY_MS)} | ${r.p99Ms.toFixed(0)} | ${ratio(r.p99Ms / LATENCY_MS)} | ${ratio(r.requestsPerOpen)} | ${r.failed} |`,
    ),
  ].join('\n');
}
