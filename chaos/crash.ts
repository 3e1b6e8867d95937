// One crash round on one database: (a) installs killed mid-way, then reloaded; (b) a refresh
// storm killed mid-way, then a restart, the longest wait for a first good answer, and one
// administrator's widget visit per portal that lost its tokens.
import type { Agent } from 'undici';
import { pool } from '../bench/lib/pool.js';
import { type AppProcess, appProcess, newKey } from './lib/app.js';
import { type DbKind, freshDb, type InstallationRow } from './lib/db.js';
import type { ChaosEmulator } from './lib/emulator.js';
import { type Answer, adminCheck, errorCode, newAgent, postForm } from './lib/http.js';
import { type KillRecord, killDuring, planKill } from './lib/killer.js';
import type { ChaosPortal, FormPost } from './lib/protocol.js';
import type { Rng } from './lib/rng.js';

export const LIMITS = { bucketSize: 500, drainPerSecond: 20 };
/** A portal whose calls find no good answer for this long after the restart counts as lost. */
const PROBE_LIMIT_MS = 30_000;

export interface Lost {
  memberId: string;
  why: string;
}

export interface InstallPhase {
  total: number;
  /** Answered 200 before the kill. */
  doneBeforeKill: number;
  kill: KillRecord;
  restartMs: number;
  reloadStatuses: Record<string, number>;
  reloadMaxMs: number;
  lost: Lost[];
}

export interface StormPhase {
  exposed: number;
  calls: number;
  callsOkBeforeKill: number;
  kill: KillRecord;
  restartMs: number;
  /** Longest time from the restart to a portal's first good answer. */
  longestWaitMs: number;
  longestWaitPortal: string | null;
  /** Calls that took over 5 s after the restart (each portal's first one), by portal. */
  slowPortals: number;
  needsReinstall: Lost[];
  visitStatuses: Record<string, number>;
  stillLost: Lost[];
  healed: number;
}

export interface CrashRound {
  db: DbKind;
  round: number;
  setupFailures: Lost[];
  installs: InstallPhase;
  storm: StormPhase;
}

export interface CrashSizes {
  installs: number;
  stormPortals: number;
  callsPerPortal: number;
}

const tally = (answers: { status: number; code: string | null }[]) => {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status === 200 ? '200' : `${a.status} ${a.code ?? ''}`.trim();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

const describeRow = (row: InstallationRow | undefined) =>
  row
    ? `${row.status}${row.hasToken ? '' : ', no token row'}${row.lastError ? `, lastError "${row.lastError}"` : ''}`
    : 'no row';

async function installAll(
  emulator: ChaosEmulator,
  agent: Agent,
  app: AppProcess,
  portals: ChaosPortal[],
): Promise<{ forms: Map<string, FormPost>; answers: Map<string, Answer> }> {
  const forms = new Map<string, FormPost>();
  for (const p of portals) forms.set(p.memberId, await emulator.call.installForm(p.memberId));
  const answers = new Map<string, Answer>();
  await pool(portals, portals.length, async (p) => {
    answers.set(p.memberId, await postForm(agent, app.url, forms.get(p.memberId)!));
  });
  return { forms, answers };
}

/** Calls on one portal, one at a time, until a good or a terminal answer (or the limit). */
async function probe(agent: Agent, app: AppProcess, token: string, memberId: string, from: number) {
  let last: Awaited<ReturnType<typeof adminCheck>> | null = null;
  const answers: string[] = [];
  while (performance.now() - from < PROBE_LIMIT_MS) {
    last = await adminCheck(agent, app.url, token, memberId);
    answers.push(
      `${last.status === 200 ? last.outcome : `${last.status} ${last.code ?? ''}`.trim()} in ${(last.ms / 1000).toFixed(1)} s`,
    );
    if (last.outcome !== 'other') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { last, waitedMs: performance.now() - from, answers };
}

export async function crashRound(
  emulator: ChaosEmulator,
  kind: DbKind,
  round: number,
  portals: { installs: ChaosPortal[]; storm: ChaosPortal[] },
  sizes: CrashSizes,
  rng: Rng,
): Promise<CrashRound> {
  const db = await freshDb(kind, `r${round}`);
  const adminToken = newKey();
  const app = await appProcess({
    emulator,
    databaseUrl: db.url,
    encryptionKey: newKey(),
    adminToken,
    limits: LIMITS,
  });
  const agents: Agent[] = [];
  const agent = () => {
    const a = newAgent();
    agents.push(a);
    return a;
  };
  try {
    await app.start();
    // Setup: the storm's portals installed without interruption; their upstream count per
    // install sizes the install phase's kill window.
    const setupBase = await emulator.call.upstream();
    const setup = await installAll(emulator, agent(), app, portals.storm);
    const perInstall = ((await emulator.call.upstream()) - setupBase) / portals.storm.length;
    const setupFailures: Lost[] = [];
    const installed: ChaosPortal[] = [];
    for (const p of portals.storm) {
      const a = setup.answers.get(p.memberId)!;
      if (a.status === 200) installed.push(p);
      else setupFailures.push({ memberId: p.memberId, why: `setup install: ${a.status} ${a.code}` });
    }
    await emulator.call.finishInstall(installed.map((p) => p.memberId));

    const installs = await installPhase(emulator, app, db, agent, portals.installs, perInstall, rng);
    const storm = await stormPhase(
      emulator,
      app,
      db,
      agent,
      adminToken,
      installed,
      sizes,
      rng,
      setupFailures,
    );
    return { db: kind, round, setupFailures, installs, storm };
  } finally {
    await app.stop().catch(() => {});
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await db.drop().catch(() => {});
  }
}

async function restart(app: AppProcess): Promise<number> {
  const t = performance.now();
  await app.start();
  return Math.round(performance.now() - t);
}

async function installPhase(
  emulator: ChaosEmulator,
  app: AppProcess,
  db: Awaited<ReturnType<typeof freshDb>>,
  agent: () => Agent,
  portals: ChaosPortal[],
  perInstall: number,
  rng: Rng,
): Promise<InstallPhase> {
  const forms = new Map<string, FormPost>();
  for (const p of portals) forms.set(p.memberId, await emulator.call.installForm(p.memberId));
  const plan = planKill(rng, perInstall * portals.length);
  const base = await emulator.call.upstream();
  const started = performance.now();
  const first = agent();
  const batch = Promise.all(portals.map((p) => postForm(first, app.url, forms.get(p.memberId)!)));
  const kill = await killDuring(emulator, app, plan, base, started, batch);
  const before = await batch;
  const restartMs = await restart(app);

  // Every admin reloads the install page: the same form, posted again.
  const reloadAgent = agent();
  const reload = await Promise.all(
    portals.map((p) => postForm(reloadAgent, app.url, forms.get(p.memberId)!)),
  );
  await emulator.call.finishInstall(
    portals.filter((_, i) => reload[i]!.status === 200).map((p) => p.memberId),
  );
  const rows = await db.rows();
  const lost: Lost[] = [];
  portals.forEach((p, i) => {
    const answer = reload[i]!;
    const row = rows.get(p.memberId);
    if (answer.status !== 200 || row?.status !== 'active' || !row.hasToken) {
      lost.push({
        memberId: p.memberId,
        why: `reload ${answer.status} ${answer.code ?? ''}; row: ${describeRow(row)}`,
      });
    }
  });
  return {
    total: portals.length,
    doneBeforeKill: before.filter((a) => a.status === 200).length,
    kill,
    restartMs,
    reloadStatuses: tally(reload),
    reloadMaxMs: Math.round(Math.max(...reload.map((a) => a.ms))),
    lost,
  };
}

async function stormPhase(
  emulator: ChaosEmulator,
  app: AppProcess,
  db: Awaited<ReturnType<typeof freshDb>>,
  agent: () => Agent,
  adminToken: string,
  installed: ChaosPortal[],
  sizes: CrashSizes,
  rng: Rng,
  setupFailures: Lost[],
): Promise<StormPhase> {
  // Calls are flowing: each installation's token used once, all good.
  const warm = agent();
  const exposed: ChaosPortal[] = [];
  await pool(installed, 20, async (p) => {
    const a = await adminCheck(warm, app.url, adminToken, p.memberId);
    if (a.outcome === 'ok') exposed.push(p);
    else setupFailures.push({ memberId: p.memberId, why: `warm-up check: ${a.status} ${a.code}` });
  });

  await emulator.call.expireTokens(exposed.map((p) => p.memberId));
  // Per portal at least one refresh and each call's app.info (refused tries come on top): the
  // kill lands within the requests the storm surely makes.
  const plan = planKill(rng, exposed.length * (sizes.callsPerPortal + 1));
  const base = await emulator.call.upstream();
  const started = performance.now();
  const stormAgent = agent();
  const batch = Promise.all(
    exposed.flatMap((p) =>
      Array.from({ length: sizes.callsPerPortal }, () =>
        adminCheck(stormAgent, app.url, adminToken, p.memberId),
      ),
    ),
  );
  const kill = await killDuring(emulator, app, plan, base, started, batch);
  const calls = await batch;
  const restartMs = await restart(app);

  // After the restart: every portal is used again at once; how long until each answers well?
  const probeAgent = agent();
  const from = performance.now();
  const probes = await Promise.all(exposed.map((p) => probe(probeAgent, app, adminToken, p.memberId, from)));
  let longestWaitMs = 0;
  let longestWaitPortal: string | null = null;
  probes.forEach((r, i) => {
    if (r.last?.outcome === 'ok' && r.waitedMs > longestWaitMs) {
      longestWaitMs = r.waitedMs;
      // Which portal, and the answers it got until the good one (one slow call, or many refusals).
      longestWaitPortal = `${exposed[i]!.memberId} (${r.answers.join(', ')})`;
    }
  });
  const rows = await db.rows();
  const needsReinstall: Lost[] = [];
  exposed.forEach((p, i) => {
    const row = rows.get(p.memberId);
    const outcome = probes[i]!.last;
    if (outcome?.outcome !== 'ok' || row?.status !== 'active') {
      needsReinstall.push({
        memberId: p.memberId,
        why: `after restart: check ${outcome?.status ?? '-'} ${outcome?.code ?? outcome?.outcome ?? ''}; row: ${describeRow(row)}`,
      });
    }
  });

  // One administrator's visit to a widget on each lost portal.
  const visits = await Promise.all(
    needsReinstall.map(async ({ memberId }) => {
      const admin = exposed.find((p) => p.memberId === memberId)!.adminUserId;
      return emulator.call
        .openPlacement(memberId, 'LANDING_SETTINGS', admin)
        .catch((e: Error) => ({ status: 0, body: e.message, form: null }));
    }),
  );
  const visitAgent = agent();
  const after = await Promise.all(
    needsReinstall.map((l) => adminCheck(visitAgent, app.url, adminToken, l.memberId)),
  );
  const rowsAfter = await db.rows();
  const stillLost: Lost[] = [];
  needsReinstall.forEach((l, i) => {
    const row = rowsAfter.get(l.memberId);
    if (after[i]!.outcome !== 'ok' || row?.status !== 'active') {
      stillLost.push({
        memberId: l.memberId,
        why: `visit ${visits[i]!.status}; check ${after[i]!.status} ${after[i]!.code ?? after[i]!.outcome}; row: ${describeRow(row)}`,
      });
    }
  });
  return {
    exposed: exposed.length,
    calls: calls.length,
    callsOkBeforeKill: calls.filter((c) => c.outcome === 'ok').length,
    kill,
    restartMs,
    longestWaitMs: Math.round(longestWaitMs),
    longestWaitPortal,
    slowPortals: probes.filter((r) => r.last?.outcome === 'ok' && r.waitedMs > 5000).length,
    needsReinstall,
    visitStatuses: tally(visits.map((v) => ({ status: v.status, code: errorCode(v.body) }))),
    stillLost,
    healed: [...rowsAfter.values()].reduce((n, r) => n + r.healCount, 0),
  };
}
