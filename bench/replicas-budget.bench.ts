// One portal's rate budget across app processes (issue #17.6): three app processes (production
// entry) on one PostgreSQL database, 300 calls each at once to one portal whose bucket is
// Bitrix24's own (X = 50, Y = 2/s). Each call is an /admin/check: one app.info with the stored
// tokens. Run with the bucket shared through the database and with a bucket per process
// (B24_RATE_BUDGET), each on a fresh database, emulator and processes.
import { request } from 'node:http';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { migrate } from '../src/db/migrate.js';
import { freePort } from '../test/helpers/net.js';
import { createTempPgDatabase } from '../test/helpers/postgres.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, type ServerProcess, startServer } from './lib/child.js';
import { ratio } from './lib/machine.js';
import { scaled } from './lib/scale.js';

export const PROCESSES = 3;
export const CALLS_PER_PROCESS = scaled(300, 20);
export const X = 50;
export const Y = 2;
const PORTAL = 'bd9e70001';
const ADMIN_TOKEN = 'replicas-budget-admin-token-0123456789';
const OK = 'the portal accepts the stored tokens';

export type BudgetMode = 'shared' | 'per-process';

export interface BudgetResult {
  mode: BudgetMode;
  calls: number;
  seconds: number;
  /** (calls − X) / Y: the portal's bucket sending nothing but these calls, never a 503. */
  idealSeconds: number;
  responses503: number;
  /** Requests the portal saw (each call once, plus every retry after a 503). */
  portalRequests: number;
  failedCalls: number;
}

/**
 * One call through a process. node:http, not fetch: a call may wait minutes for its turn, past
 * undici's 300 s wait for response headers.
 */
function check(url: string): Promise<string> {
  const body = `portal=${PORTAL}`;
  return new Promise((resolve) => {
    const req = request(
      `${url}/admin/check`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${ADMIN_TOKEN}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`));
        res.on('error', (e) => resolve(`error ${e.message}`));
      },
    );
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end(body);
  });
}

export async function replicasBudgetBench(mode: BudgetMode): Promise<BudgetResult> {
  const database = await createTempPgDatabase('budgetbench');
  let emulator: EmulatorHandle | undefined;
  const apps: ServerProcess[] = [];
  try {
    await migrate(database.url);
    const ports = await Promise.all(Array.from({ length: PROCESSES }, () => freePort()));
    const publicUrl = `http://127.0.0.1:${ports[0]}`;
    emulator = await startEmulator({
      appUrl: publicUrl,
      portals: [{ memberId: PORTAL }],
      limits: { bucketSize: X, drainPerSecond: Y },
    });
    const env = appEnv(emulator, publicUrl, database.url, {
      ADMIN_TOKEN,
      B24_RATE_LIMIT_BURST: String(X),
      B24_RATE_LIMIT_PER_SECOND: String(Y),
      B24_RATE_BUDGET: mode,
      // A call may wait its turn for minutes: the server must not cut the request off first.
      REQUEST_TIMEOUT_MS: '3600000',
    });
    // Every process uses the same token key: they share the stored tokens.
    for (const port of ports) apps.push(await startServer(APP_ENTRY, port, { env }));
    const installed = await emulator.installApp(PORTAL);
    if (installed.status !== 200)
      throw new Error(`install: ${installed.status} ${installed.body.slice(0, 300)}`);
    emulator.finishInstall(PORTAL);
    // The install's own calls drain out of every model of the bucket before the count starts.
    const installCalls = emulator.stats.portal(PORTAL).restRequests;
    await new Promise((r) => setTimeout(r, (installCalls / Y + 1) * 1000));
    emulator.resetLimits();
    emulator.stats.reset();

    const started = performance.now();
    const answers = await Promise.all(
      apps.flatMap((app) => Array.from({ length: CALLS_PER_PROCESS }, () => check(app.url))),
    );
    const seconds = (performance.now() - started) / 1000;
    const failed = answers.filter((a) => !a.includes(OK));
    // The admin page's flash message says why (the page around it says nothing).
    const why = (answer: string) => /role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(answer)?.[1]?.trim() ?? answer;
    for (const f of failed.slice(0, 3)) process.stderr.write(`call failed: ${why(f).slice(0, 300)}\n`);
    const stats = emulator.stats.portal(PORTAL);
    const calls = answers.length;
    return {
      mode,
      calls,
      seconds,
      idealSeconds: Math.max(0, calls - X) / Y,
      responses503: stats.responses503,
      portalRequests: stats.restRequests,
      failedCalls: failed.length,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await emulator?.close();
    await database.drop();
  }
}

export function budgetTable(results: BudgetResult[]): string {
  const row = (label: string, cell: (r: BudgetResult) => string) =>
    `| ${label} | ${results.map(cell).join(' | ')} |`;
  const name = (mode: BudgetMode) =>
    mode === 'shared' ? 'bucket shared through PostgreSQL' : 'a bucket per process';
  return [
    `| ${PROCESSES} processes × ${CALLS_PER_PROCESS} calls at once, one portal (X = ${X}, Y = ${Y}/s) | ${results.map((r) => name(r.mode)).join(' | ')} |`,
    `| --- |${results.map(() => ' --- |').join('')}`,
    row('503s sent by the portal (goal 0)', (r) => String(r.responses503)),
    row('requests the portal saw (calls + retries)', (r) => `${r.portalRequests} (${r.calls} calls)`),
    row('calls failed for the caller', (r) => `${r.failedCalls} / ${r.calls}`),
    row('time until the last answer', (r) => `${ratio(r.seconds, 1)} s`),
    row(
      "… ÷ the bucket's ideal (goal ≤ 1.1)",
      (r) => `${ratio(r.seconds / r.idealSeconds)} (ideal ${ratio(r.idealSeconds, 1)} s)`,
    ),
  ].join('\n');
}
