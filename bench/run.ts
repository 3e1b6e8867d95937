// `npm run bench`: every benchmark, one after the other in one run, results appended to
// BENCHMARKS.md with date, machine and command. BENCH_ONLY=widget (or another section name)
// runs one section.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { coldOpenBench, coldTable, LATENCY_MS, OPENS } from './cold-open.bench.js';
import { INSTALL_CONCURRENCY, INSTALL_MINIMUM_NOTE, installBench, installTable } from './install.bench.js';
import { machineLine } from './lib/machine.js';
import { benchCommand } from './lib/scale.js';
import { memoryBench, memoryTable, PASSES } from './memory.bench.js';
import { CALLS_PER_INSTALLATION, refreshStormBench, stormTable } from './refresh-storm.bench.js';
import { budgetTable, PROCESSES, replicasBudgetBench } from './replicas-budget.bench.js';
import { CONNECTIONS, SECONDS, widgetOpenBench, widgetTable } from './widget-open.bench.js';

const only = process.env.BENCH_ONLY;
const wanted = (section: string) => !only || only === section || (only === 'app' && section === 'widget');

/** Prints a section and appends it to BENCHMARKS.md (BENCH_NO_APPEND=1: print only, while iterating). */
function append(report: string): void {
  process.stdout.write(`${report}\n`);
  if (!process.env.BENCH_NO_APPEND) appendFileSync(join(process.cwd(), 'BENCHMARKS.md'), `\n${report}`);
}

if (wanted('widget')) {
  const results = [await widgetOpenBench('sqlite'), await widgetOpenBench('postgresql')];
  append(
    [
      `## Widget open throughput — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      'App (its compiled production entry, dist/server.js, NODE_ENV=production) and bare route each in their own process, autocannon in a',
      `third, ${CONNECTIONS} connections, ${SECONDS} s after a warm-up, real widget payloads from 10 emulated portals × 2 users`,
      '(verification, view and page caches warm).',
      '',
      widgetTable(results),
      '',
    ].join('\n'),
  );
}

if (wanted('cold')) {
  const results = await coldOpenBench();
  append(
    [
      `## Cold widget opens at ${LATENCY_MS} ms portal latency — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      `The app (production entry) on SQLite; the emulator adds ${LATENCY_MS} ms to every REST and OAuth answer. ${OPENS} opens of`,
      'each page, one at a time, each with a fresh AUTH_ID (administrator and ordinary user in turn), so every open must',
      'verify its token (goal: p50 ≤ 1.15 × latency, p99 ≤ 1.5 ×, one portal request per open).',
      '',
      coldTable(results),
      '',
    ].join('\n'),
  );
  // The figure the issue asks for, last: the settings widget's median over the latency.
  process.stdout.write(`cold-open p50/latency ${(results[0]!.p50Ms / LATENCY_MS).toFixed(2)}\n`);
}

if (wanted('rest')) {
  // The REST client against the bucket's ideal and the official SDK (appends its own section).
  execFileSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'), ['bench/rest-client.bench.ts'], {
    stdio: 'inherit',
  });
}

if (wanted('install')) {
  const result = await installBench();
  append(
    [
      `## Install at scale — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      `The app (production entry) in its own process on SQLite; each emulated portal sends its install POST, ${INSTALL_CONCURRENCY}`,
      'portals at once, then installFinish. Requests counted by the emulator; bindings checked in its state afterwards.',
      '',
      installTable(result),
      '',
      INSTALL_MINIMUM_NOTE,
      '',
    ].join('\n'),
  );
}

if (wanted('storm')) {
  const results = [await refreshStormBench(1), await refreshStormBench(2)];
  append(
    [
      `## Token refresh storm — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      "Every installation's access token expired at the same moment in the emulator (real limits: X = 50, Y = 2/s),",
      `then ${CALLS_PER_INSTALLATION} calls at once on each through our REST client and TokenManager; with two "processes" (two database`,
      'clients, token managers and client factories on one PostgreSQL database) the calls alternate between them.',
      'Requests counted by the emulator.',
      '',
      stormTable(results),
      '',
    ].join('\n'),
  );
}

if (wanted('memory')) {
  const result = await memoryBench();
  append(
    [
      `## Memory across many portals — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      `The app (production entry) in its own process on SQLite, installed through its install route on ${result.portals} emulated`,
      `portals; then ${PASSES} passes of widget opens over every portal (settings and block widgets alternating; pass 1 is each`,
      "portal's own POST with a fresh AUTH_ID, later passes re-post it). After each pass: VmRSS of the app process, then",
      'its heap after a forced full GC (bench/lib/heap-probe.mjs, preloaded): RSS includes garbage V8 has not collected yet.',
      'Bounded caches: user verifications 10k, views 5k (10 s + 10 s stale), installations 10k (2 s), sealed page contexts',
      "10k (1 min), pages sent again 1k per widget; Bitrix24 connections close after 4 s idle and a portal's pool goes with them.",
      '',
      memoryTable(result),
      '',
    ].join('\n'),
  );
}

if (wanted('replicas')) {
  const results = [await replicasBudgetBench('shared'), await replicasBudgetBench('per-process')];
  append(
    [
      `## One rate budget per portal across processes — ${new Date().toISOString()}`,
      '',
      machineLine(benchCommand()),
      `${PROCESSES} app processes (production entry) on one PostgreSQL database, each sent its calls (POST /admin/check:`,
      "one app.info with the stored tokens) all at once; one emulated portal with Bitrix24's bucket. The same workload",
      'with the bucket kept in the database (B24_RATE_BUDGET=shared, the default on PostgreSQL) and with one bucket per',
      'process (per-process), each on a fresh database, emulator and processes. Requests and 503s counted by the emulator.',
      '',
      budgetTable(results),
      '',
    ].join('\n'),
  );
}
