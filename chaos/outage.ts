// A PostgreSQL outage under three replicas: three app processes on one database, calls flowing
// through all of them (REST on the installations' tokens, widget opens, health checks), every
// token expired just before the database stops taking connections and has its sessions killed
// for a few seconds (this database only: ALTER DATABASE ... ALLOW_CONNECTIONS false and
// pg_terminate_backend, never the server other people use), then recovery.
import pg from 'pg';
import type { Agent } from 'undici';
import { PG_ADMIN_URL } from '../test/helpers/postgres.js';
import { LIMITS, type Lost } from './crash.js';
import { type AppProcess, appProcess, newKey } from './lib/app.js';
import { freshDb } from './lib/db.js';
import type { ChaosEmulator } from './lib/emulator.js';
import { type Answer, adminCheck, newAgent, postForm, send } from './lib/http.js';
import type { ChaosPortal, FormPost } from './lib/protocol.js';
import type { Rng } from './lib/rng.js';

const REPLICAS = 3;
const WORKERS = 24;
const BEFORE_MS = 2_000;
const AFTER_MS = 6_000;
const TERMINATE_EVERY_MS = 200;

interface Sample {
  at: number;
  status: number;
  code: string | null;
  kind: 'check' | 'widget' | 'health';
}

export interface OutageResult {
  round: number;
  portals: number;
  outageMs: number;
  requests: number;
  duringByAnswer: Record<string, number>;
  database503During: number;
  after5xx: number;
  after5xxByAnswer: Record<string, number>;
  /** 5xx answers to requests started more than 1 s after recovery. */
  after5xxLate: number;
  refreshesAroundOutage: number;
  tokensLost: Lost[];
  setupFailures: Lost[];
}

const key = (s: { status: number; code: string | null }) =>
  s.status === 200 ? '200' : `${s.status} ${s.code ?? ''}`.trim();

function tally(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[key(s)] = (counts[key(s)] ?? 0) + 1;
  return counts;
}

async function adminSql(sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export async function outageRound(
  emulator: ChaosEmulator,
  round: number,
  portals: ChaosPortal[],
  rng: Rng,
): Promise<OutageResult> {
  const db = await freshDb('postgresql', `o${round}`);
  const name = db.name!;
  const encryptionKey = newKey();
  const adminToken = newKey();
  const replicas: AppProcess[] = [];
  const agent: Agent = newAgent();
  let blocked = false;
  try {
    const first = await appProcess({
      emulator,
      databaseUrl: db.url,
      encryptionKey,
      adminToken,
      limits: LIMITS,
    });
    replicas.push(first);
    for (let i = 1; i < REPLICAS; i++) {
      replicas.push(
        await appProcess({
          emulator,
          databaseUrl: db.url,
          publicUrl: first.url,
          encryptionKey,
          adminToken,
          limits: LIMITS,
        }),
      );
    }
    // One after another: each applies (or finds applied) the migrations at start.
    for (const r of replicas) await r.start();

    const setupFailures: Lost[] = [];
    const installed: ChaosPortal[] = [];
    for (const p of portals) {
      const form = await emulator.call.installForm(p.memberId);
      const a = await postForm(agent, first.url, form);
      if (a.status === 200) installed.push(p);
      else setupFailures.push({ memberId: p.memberId, why: `setup install: ${a.status} ${a.code}` });
    }
    await emulator.call.finishInstall(installed.map((p) => p.memberId));
    const widgets = new Map<string, FormPost>();
    const refreshWidgets = async () => {
      for (const p of installed) {
        const open = await emulator.call.openPlacement(p.memberId, 'LANDING_SETTINGS', p.adminUserId);
        if (open.status === 200) widgets.set(p.memberId, open.form);
      }
    };
    await refreshWidgets();

    const samples: Sample[] = [];
    const t0 = performance.now();
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const replica = rng.pick(replicas);
        const portal = rng.pick(installed);
        const roll = rng.next();
        const at = performance.now() - t0;
        let a: Answer;
        let kind: Sample['kind'];
        if (roll < 0.5) {
          kind = 'check';
          a = await adminCheck(agent, replica.url, adminToken, portal.memberId);
        } else if (roll < 0.9 && widgets.has(portal.memberId)) {
          kind = 'widget';
          a = await postForm(agent, replica.url, widgets.get(portal.memberId)!);
        } else {
          kind = 'health';
          a = await send(agent, `${replica.url}/healthz`, { method: 'GET' });
        }
        samples.push({ at, status: a.status, code: a.code, kind });
      }
    };
    const workers = Array.from({ length: WORKERS }, worker);

    await new Promise((r) => setTimeout(r, BEFORE_MS));
    const oauthBefore = (await emulator.call.oauth()).refreshRequests;
    // Every token expired: refreshes are in flight when the database goes away.
    await emulator.call.expireTokens(installed.map((p) => p.memberId));
    await new Promise((r) => setTimeout(r, rng.int(0, 300)));
    const outageMs = rng.int(3_000, 5_000);
    const outageStart = performance.now() - t0;
    blocked = true;
    await adminSql(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    while (performance.now() - t0 - outageStart < outageMs) {
      await adminSql(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await new Promise((r) => setTimeout(r, TERMINATE_EVERY_MS));
    }
    await adminSql(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    blocked = false;
    const recovered = performance.now() - t0;
    // The widget forms' user tokens died with the expiry: the portals' users open them afresh.
    await refreshWidgets();
    await new Promise((r) => setTimeout(r, AFTER_MS));
    stop = true;
    await Promise.all(workers);
    const refreshesAroundOutage = (await emulator.call.oauth()).refreshRequests - oauthBefore;

    // Tokens lost: a portal whose calls no longer find good tokens, on any replica.
    const rows = await db.rows();
    const tokensLost: Lost[] = [];
    await Promise.all(
      installed.map(async (p, i) => {
        const replica = replicas[i % REPLICAS]!;
        let last = await adminCheck(agent, replica.url, adminToken, p.memberId);
        for (let tries = 0; last.outcome === 'other' && tries < 20; tries++) {
          await new Promise((r) => setTimeout(r, 500));
          last = await adminCheck(agent, replica.url, adminToken, p.memberId);
        }
        const row = rows.get(p.memberId);
        if (last.outcome !== 'ok') {
          tokensLost.push({
            memberId: p.memberId,
            why: `check ${last.status} ${last.code ?? last.outcome}; row: ${row?.status ?? 'none'}`,
          });
        }
      }),
    );

    const during = samples.filter((s) => s.at >= outageStart && s.at < recovered);
    // No answer at all counts with the 5xx: both are failures the user sees.
    const after = samples.filter((s) => s.at >= recovered && (s.status >= 500 || s.status === 0));
    return {
      round,
      portals: installed.length,
      outageMs: Math.round(recovered - outageStart),
      requests: samples.length,
      duringByAnswer: tally(during),
      database503During: during.filter((s) => s.status === 503 && s.code === 'database_unavailable').length,
      after5xx: after.length,
      after5xxByAnswer: tally(after),
      after5xxLate: after.filter((s) => s.at >= recovered + 1000).length,
      refreshesAroundOutage,
      tokensLost,
      setupFailures,
    };
  } finally {
    if (blocked) await adminSql(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`).catch(() => {});
    await Promise.all(replicas.map((r) => r.stop().catch(() => {})));
    await agent.close().catch(() => {});
    await db.drop().catch(() => {});
  }
}
