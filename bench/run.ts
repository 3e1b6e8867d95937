// `npm run bench`: every benchmark, results appended to BENCHMARKS.md with date, machine and command.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { type Measured, type WidgetResult, widgetOpenBench } from './widget-open.bench.js';

const f = (n: number, digits = 2) => n.toFixed(digits);

function widgetTable(results: WidgetResult[]): string {
  const rows = results.flatMap((r) =>
    (['settings', 'block'] as const).map((page) => {
      const { app, bare } = r[page];
      const cell = (m: Measured) => `${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms`;
      return `| ${r.provider} | /placements/${page} | ${cell(app)} | ${cell(bare)} | ${f(app.rps / bare.rps)} | ${f(app.p99 / Math.max(bare.p99, 1))} | ${app.non2xx + app.errors} |`;
    }),
  );
  return [
    '| database | route | app | bare route | throughput ratio (goal ≥ 0.5) | p99 ratio (goal ≤ 2) | app non-2xx + errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const results = [await widgetOpenBench('sqlite'), await widgetOpenBench('postgresql')];
const report = [
  `## Widget open throughput — ${new Date().toISOString()}`,
  '',
  `Machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Command: \`npm run bench\`.`,
  'App and bare route each in their own process (NODE_ENV=production), autocannon in a third, 50 connections,',
  `${process.env.BENCH_SECONDS ?? 8} s after a 2 s warm-up, real widget payloads from 10 emulated portals (caches warm).`,
  '',
  widgetTable(results),
  '',
].join('\n');
process.stdout.write(`${report}\n`);
appendFileSync(join(process.cwd(), 'BENCHMARKS.md'), `\n${report}`);

// The REST client against the bucket's ideal and the official SDK (appends its own section).
execFileSync(join(process.cwd(), 'node_modules', '.bin', 'tsx'), ['bench/rest-client.bench.ts'], {
  stdio: 'inherit',
});
