// Memory under many portals: the app (its own process, SQLite) installed on 10,000 emulated
// portals, then widget opens round-robin over all of them, RSS of the app process read from
// /proc after every pass. Once every portal has been seen, the app's per-portal state is at its
// size and its caches at their bounds (user verifications 10k, views 5k, installations 10k),
// so RSS should stay flat: growth after that is a leak.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { migrate } from '../src/db/migrate.js';
import { freePort } from '../test/helpers/net.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, type ServerProcess, startServer } from './lib/child.js';
import { heapProbeFlags, liveHeapMiB } from './lib/heap.js';
import { incompleteInstalls, installConcurrently } from './lib/install-many.js';
import type { FormRequest } from './lib/load.js';
import { ratio } from './lib/machine.js';
import { pool } from './lib/pool.js';
import { memberIds, type WidgetPlacement, widgetRequest } from './lib/portals.js';
import { rssMiB } from './lib/rss.js';
import { MANY_PORTALS, scaled } from './lib/scale.js';
import { sendEachOnce } from './lib/send-once.js';

export const PASSES = 10;
/**
 * The goal's size: 10,000 portals, 100,000 opens (several minutes here, the app's CPU being the
 * limit). BENCH_MEMORY_PORTALS=2000 (or BENCH_SCALE) for a quicker look.
 */
export const MEMORY_PORTALS = Number(process.env.BENCH_MEMORY_PORTALS ?? 10_000);
/** Installs through the app at once: more only queue in the app (its CPU is the limit). */
export const MEMORY_INSTALL_CONCURRENCY = 100;
export const OPEN_CONCURRENCY = 32;

export interface MemorySample {
  opens: number;
  rssMiB: number;
  /** Heap that survives a full collection: what the app really keeps. */
  heapMiB: number;
}

export interface MemoryResult {
  portals: number;
  installSeconds: number;
  openSeconds: number;
  /** Right after the app started, before any install. */
  start: MemorySample;
  /** After the installs (0 opens), then after every pass. */
  samples: MemorySample[];
  non2xx: number;
}

const placementOf = (i: number): WidgetPlacement => (i % 2 ? 'LANDING_BLOCK_*' : 'LANDING_SETTINGS');

export async function memoryBench(): Promise<MemoryResult> {
  const portals = scaled(MEMORY_PORTALS, 10);
  const members = memberIds('3e3a0', portals);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const databaseUrl = `file:${join(tmp, 'app.db')}`;
  await migrate(databaseUrl);
  const appPort = await freePort();
  const publicUrl = `http://127.0.0.1:${appPort}`;
  let emulator: EmulatorHandle | undefined;
  let app: ServerProcess | undefined;
  try {
    emulator = await startEmulator({
      appUrl: publicUrl,
      portals: members.map((memberId) => ({ memberId, appsInstalled: false })),
      // Memory is measured here, not pacing: the portals' buckets never refuse.
      limits: { bucketSize: 10_000, drainPerSecond: 1_000 },
      ...MANY_PORTALS,
    });
    const handle = emulator;
    const heapFile = join(tmp, 'heap.json');
    app = await startServer(APP_ENTRY, appPort, {
      env: appEnv(emulator, publicUrl, databaseUrl, { BENCH_HEAP_FILE: heapFile }),
      nodeFlags: heapProbeFlags(),
    });
    const pid = app.pid;
    // RSS first, as it is; then the live heap (the full collection it needs would shrink RSS).
    const sample = async (opens: number): Promise<MemorySample> => {
      const rss = rssMiB(pid);
      return { opens, rssMiB: rss, heapMiB: await liveHeapMiB(pid, heapFile) };
    };
    const start = await sample(0);

    const installStart = performance.now();
    const failures = await installConcurrently(emulator, members, MEMORY_INSTALL_CONCURRENCY);
    const installSeconds = (performance.now() - installStart) / 1000;
    const incomplete = incompleteInstalls(emulator, members, publicUrl);
    if (failures.length || incomplete.length) {
      throw new Error(
        `${failures.length} installs failed, ${incomplete.length} incomplete: ${JSON.stringify(failures[0])}`,
      );
    }
    const samples: MemorySample[] = [await sample(0)];

    const openStart = performance.now();
    let non2xx = 0;
    // Pass 1: every portal opens a widget (the portal's own POST, a fresh AUTH_ID); it is kept.
    const payloads: FormRequest[] = await pool(members, OPEN_CONCURRENCY, async (memberId, i) => {
      try {
        return await widgetRequest(handle, memberId, placementOf(i));
      } catch (e) {
        non2xx++;
        process.stderr.write(`open failed: ${(e as Error).message.slice(0, 300)}\n`);
        return null;
      }
    }).then((all) => all.filter((p): p is FormRequest => p !== null));
    samples.push(await sample(portals));
    // Passes 2..10: the same widgets opened again, round-robin over every portal.
    for (let pass = 2; pass <= PASSES; pass++) {
      const sent = await sendEachOnce(app.url, payloads, OPEN_CONCURRENCY);
      non2xx += sent.failed + (portals - payloads.length);
      samples.push(await sample(pass * portals));
    }
    const openSeconds = (performance.now() - openStart) / 1000;
    return { portals, installSeconds, openSeconds, start, samples, non2xx };
  } finally {
    await app?.stop();
    await emulator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function memoryTable(r: MemoryResult): string {
  const at = (opens: number) => r.samples.find((s) => s.opens === opens);
  const last = r.samples.at(-1)!;
  const installed = r.samples[0]!;
  const growth = (from: number, key: 'rssMiB' | 'heapMiB') => {
    const before = at(from)?.[key] ?? Number.NaN;
    const mib = last[key] - before;
    return `${mib >= 0 ? '+' : ''}${ratio(mib, 1)} MiB (${ratio((mib / before) * 100, 1)} %)`;
  };
  const perPortal = (key: 'rssMiB' | 'heapMiB') =>
    `${ratio(((installed[key] - r.start[key]) * 1024) / r.portals, 0)} KiB`;
  const twoPasses = 2 * r.portals;
  const span = (from: number) => `${from.toLocaleString('en')} → ${last.opens.toLocaleString('en')} opens`;
  return [
    '| widget opens | app RSS (MiB) | live heap after a full GC (MiB) |',
    '| --- | --- | --- |',
    `| app started | ${ratio(r.start.rssMiB, 0)} | ${ratio(r.start.heapMiB, 0)} |`,
    ...r.samples.map(
      (s) =>
        `| ${s.opens ? s.opens.toLocaleString('en') : '0 (all installed)'} | ${ratio(s.rssMiB, 0)} | ${ratio(s.heapMiB, 0)} |`,
    ),
    '',
    '| Summary | result |',
    '| --- | --- |',
    `| portals installed through the app (${MEMORY_INSTALL_CONCURRENCY} at once) | ${r.portals} in ${ratio(r.installSeconds, 0)} s (${ratio(r.portals / r.installSeconds, 1)}/s) |`,
    `| widget opens | ${last.opens.toLocaleString('en')} in ${ratio(r.openSeconds, 0)} s (${ratio(last.opens / r.openSeconds, 0)}/s, ${OPEN_CONCURRENCY} at once) |`,
    `| RSS growth, ${span(twoPasses)} (goal: flat) | ${growth(twoPasses, 'rssMiB')} |`,
    `| live heap growth, ${span(twoPasses)} (goal: flat) | ${growth(twoPasses, 'heapMiB')} |`,
    `| per installed portal: RSS, live heap | ${perPortal('rssMiB')}, ${perPortal('heapMiB')} |`,
    `| non-2xx opens | ${r.non2xx} |`,
  ].join('\n');
}
