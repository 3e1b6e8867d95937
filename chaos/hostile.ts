// Memory under hostile input (issue #20.6): one app process (production build, SQLite) gets
// `perRoute` forged or garbage requests on every route, in three passes; after each pass its
// heap is measured after a full GC (bench/lib/heap-probe.mjs, preloaded). The goal: the heap
// after the last pass within 10 % of its level after the first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, request } from 'undici';
import { heapProbeFlags, liveHeapMiB } from '../bench/lib/heap.js';
import { rssMiB } from '../bench/lib/rss.js';
import { appProcess, newKey } from './lib/app.js';
import { freshDb } from './lib/db.js';
import { startChaosEmulator } from './lib/emulator.js';
import { hostileRequest, type KnownPortal, ROUTES, type Route } from './lib/hostile-requests.js';
import { newAgent, postForm } from './lib/http.js';
import type { Rng } from './lib/rng.js';

export const PASSES = 3;
const CONNECTIONS = 16;
/** Memory is measured here, not pacing: forged calls on real portals never meet a rate limit. */
const OPEN_LIMITS = { bucketSize: 1_000_000, drainPerSecond: 100_000 };

export interface HostileResult {
  perRoute: number;
  requests: number;
  seconds: number;
  /** After the installs, before any hostile request. */
  startHeapMiB: number;
  heapMiB: number[];
  rssMiB: number[];
  ratio: number;
  /** Per route: answers by status class over all passes. */
  byRoute: Record<string, Counts>;
}

type Counts = { '2xx': number; '4xx': number; '5xx': number; failed: number };

/**
 * `count` requests on one route, CONNECTIONS at a time, through undici (which reconnects when
 * the app closes a connection after refusing a body; autocannon loses count there).
 */
async function pass(agent: Agent, url: string, route: Route, count: number, rng: Rng, known: KnownPortal[]) {
  const counts: Counts = { '2xx': 0, '4xx': 0, '5xx': 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const r = hostileRequest(route, rng, known);
      try {
        const res = await request(`${url}${r.path}`, {
          dispatcher: agent,
          method: r.method,
          headers: r.headers,
          body: r.method === 'POST' ? r.body : undefined,
        });
        await res.body.dump();
        const cls = `${Math.floor(res.statusCode / 100)}xx`;
        if (cls === '2xx' || cls === '4xx' || cls === '5xx') counts[cls]++;
      } catch {
        counts.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return counts;
}

export async function hostileMemory(perRoute: number, rng: Rng): Promise<HostileResult> {
  const memberIds = Array.from({ length: 5 }, (_, i) => `h05711e${i}`);
  const emulator = await startChaosEmulator({ memberIds, limits: OPEN_LIMITS });
  const db = await freshDb('sqlite', 'hostile');
  const tmp = mkdtempSync(join(tmpdir(), 'chaos-heap-'));
  const heapFile = join(tmp, 'heap.json');
  const app = await appProcess({
    emulator,
    databaseUrl: db.url,
    encryptionKey: newKey(),
    adminToken: newKey(),
    limits: OPEN_LIMITS,
    extraEnv: { BENCH_HEAP_FILE: heapFile },
    nodeFlags: heapProbeFlags(),
  });
  const agent = newAgent();
  try {
    await app.start();
    const known: KnownPortal[] = [];
    for (const p of emulator.portals) {
      const install = await postForm(agent, app.url, await emulator.call.installForm(p.memberId));
      if (install.status !== 200)
        throw new Error(`hostile setup: install on ${p.memberId}: ${install.status} ${install.code}`);
      await emulator.call.finishInstall([p.memberId]);
      const open = await emulator.call.openPlacement(p.memberId, 'LANDING_SETTINGS', p.adminUserId);
      const ctx = /name="ctx" value="([^"]+)"/.exec(open.body)?.[1];
      if (open.status !== 200 || !ctx)
        throw new Error(`hostile setup: widget on ${p.memberId}: ${open.status}`);
      known.push({ memberId: p.memberId, domain: p.domain, ctx });
    }
    const pid = app.current()!.pid;
    process.stderr.write(`hostile: ${known.length} portals installed; measuring the heap\n`);
    const startHeapMiB = await liveHeapMiB(pid, heapFile);
    const heap: number[] = [];
    const rss: number[] = [];
    const byRoute: HostileResult['byRoute'] = {};
    const started = performance.now();
    for (let p = 1; p <= PASSES; p++) {
      for (const route of ROUTES) {
        const t = performance.now();
        const r = await pass(agent, app.url, route, perRoute, rng, known);
        const rps = perRoute / ((performance.now() - t) / 1000);
        process.stderr.write(`hostile pass ${p} ${route}: ${JSON.stringify(r)}, ${rps.toFixed(0)}/s\n`);
        byRoute[route] ??= { '2xx': 0, '4xx': 0, '5xx': 0, failed: 0 };
        const sum = byRoute[route];
        for (const k of ['2xx', '4xx', '5xx', 'failed'] as const) sum[k] += r[k];
      }
      rss.push(rssMiB(pid));
      heap.push(await liveHeapMiB(pid, heapFile));
      process.stderr.write(
        `hostile pass ${p}: heap ${heap.at(-1)!.toFixed(1)} MiB, rss ${rss.at(-1)!.toFixed(0)} MiB\n`,
      );
    }
    return {
      perRoute,
      requests: perRoute * ROUTES.length * PASSES,
      seconds: (performance.now() - started) / 1000,
      startHeapMiB,
      heapMiB: heap,
      rssMiB: rss,
      ratio: heap.at(-1)! / heap[0]!,
      byRoute,
    };
  } finally {
    await app.stop().catch(() => {});
    await agent.close().catch(() => {});
    await emulator.close();
    await db.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
