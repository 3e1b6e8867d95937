// CHAOS.md section and the summary line, from the results of one run.
import type { CrashRound, Lost } from './crash.js';
import type { HostileResult } from './hostile.js';
import type { OutageResult } from './outage.js';

export interface RunResults {
  crash: CrashRound[];
  outage: OutageResult[];
  hostile: HostileResult | null;
}

export interface Totals {
  installs: number;
  lostInstalls: number;
  exposed: number;
  needsReinstall: number;
  stillLost: number;
  longestWaitS: number;
}

export function totals(r: RunResults): Totals {
  const sum = (f: (c: CrashRound) => number) => r.crash.reduce((n, c) => n + f(c), 0);
  return {
    installs: sum((c) => c.installs.total),
    lostInstalls: sum((c) => c.installs.lost.length),
    exposed: sum((c) => c.storm.exposed),
    needsReinstall: sum((c) => c.storm.needsReinstall.length),
    stillLost: sum((c) => c.storm.stillLost.length),
    longestWaitS: Math.max(0, ...r.crash.map((c) => c.storm.longestWaitMs / 1000)),
  };
}

export const summaryLine = (t: Totals): string =>
  `chaos lost-installs ${t.lostInstalls}/${t.installs} lost-portals-after-visit ${t.stillLost}/${t.exposed} longest-wait-s ${t.longestWaitS.toFixed(1)}`;

const s = (ms: number) => (ms / 1000).toFixed(1);
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '—';
const lostList = (label: string, items: { round: number; db: string; lost: Lost[] }[]) =>
  items.flatMap(({ round, db, lost }) =>
    lost.map((l) => `- ${label}, round ${round} ${db}: portal \`${l.memberId}\`: ${l.why}`),
  );

export function crashTables(r: RunResults): string {
  const rows = r.crash.map((c) => {
    const i = c.installs;
    const st = c.storm;
    const kill = (k: typeof i.kill) =>
      k.afterBatch
        ? `after the batch (${s(k.atMs)} s)`
        : `${k.atUpstream}/${k.expected} upstream, ${s(k.atMs)} s`;
    return `| ${c.round} | ${c.db} | ${i.lost.length} / ${i.total} (${i.doneBeforeKill} done before the kill) | ${kill(i.kill)} | ${st.needsReinstall.length} / ${st.exposed} | ${st.stillLost.length} / ${st.exposed} | ${s(st.longestWaitMs)} | ${kill(st.kill)} | ${s(i.restartMs)} / ${s(st.restartMs)} |`;
  });
  const byDb = (['sqlite', 'postgresql'] as const).map((db) => {
    const t = totals({ ...r, crash: r.crash.filter((c) => c.db === db) });
    return `| all | ${db} | ${t.lostInstalls} / ${t.installs} | | ${t.needsReinstall} / ${t.exposed} | ${t.stillLost} / ${t.exposed} | ${t.longestWaitS.toFixed(1)} | | |`;
  });
  const details = [
    ...lostList(
      'lost install',
      r.crash.map((c) => ({ round: c.round, db: c.db, lost: c.installs.lost })),
    ),
    ...lostList(
      'needs reinstall after restart',
      r.crash.map((c) => ({ round: c.round, db: c.db, lost: c.storm.needsReinstall })),
    ),
    ...lostList(
      'still lost after the admin visit',
      r.crash.map((c) => ({ round: c.round, db: c.db, lost: c.storm.stillLost })),
    ),
    ...lostList(
      'setup problem (not counted)',
      r.crash.map((c) => ({ round: c.round, db: c.db, lost: c.setupFailures })),
    ),
  ];
  const reloads = r.crash.map(
    (c) =>
      `round ${c.round} ${c.db}: ${counts(c.installs.reloadStatuses)} (slowest ${s(c.installs.reloadMaxMs)} s)`,
  );
  const slow = r.crash
    .filter((c) => c.storm.slowPortals)
    .map(
      (c) =>
        `round ${c.round} ${c.db}: ${c.storm.slowPortals} portal(s) over 5 s, longest ${c.storm.longestWaitPortal}`,
    );
  return [
    '| round | database | installs lost / installs | install kill at | portals needs_reinstall / exposed | still lost after one admin visit | longest wait after restart (s) | storm kill at | restart (s): installs / storm |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...byDb,
    '',
    `Reload answers: ${reloads.join('; ')}.`,
    '',
    slow.length ? `Waits over 5 s: ${slow.join('; ')}.` : 'No portal waited over 5 s after a restart.',
    '',
    ...(details.length ? ['What the harness saw:', '', ...details] : ['Nothing was lost.']),
  ].join('\n');
}

export function outageTable(r: RunResults): string {
  if (!r.outage.length) return '(not run)';
  const rows = r.outage.map(
    (o) =>
      `| ${o.round} | ${s(o.outageMs)} | ${o.requests} | ${o.database503During} | ${counts(o.duringByAnswer)} | ${o.after5xx} (${o.after5xxLate} later than 1 s)${o.after5xx ? `: ${counts(o.after5xxByAnswer)}` : ''} | ${o.refreshesAroundOutage} | ${o.tokensLost.length} / ${o.portals} |`,
  );
  const lost = r.outage.flatMap((o) => [
    ...o.tokensLost.map((l) => `- tokens lost, round ${o.round}: portal \`${l.memberId}\`: ${l.why}`),
    ...o.setupFailures.map((l) => `- setup problem, round ${o.round}: portal \`${l.memberId}\`: ${l.why}`),
  ]);
  return [
    '| round | outage (s) | requests | 503 database_unavailable during | all answers during | 5xx or no answer after recovery (goal 0) | OAuth refreshes around it | tokens lost (goal 0) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...(lost.length ? ['', ...lost] : []),
  ].join('\n');
}

export function hostileTable(h: HostileResult | null): string {
  if (!h) return '(not run)';
  const ok = h.ratio <= 1.1 ? 'within' : 'NOT within';
  return [
    '| after | live heap after a full GC (MiB) | RSS (MiB) |',
    '| --- | --- | --- |',
    `| installs (before any hostile request) | ${h.startHeapMiB.toFixed(1)} | |`,
    ...h.heapMiB.map(
      (m, i) =>
        `| pass ${i + 1} (${((i + 1) * h.requests) / h.heapMiB.length} requests) | ${m.toFixed(1)} | ${h.rssMiB[i]!.toFixed(0)} |`,
    ),
    '',
    `Heap after the last pass ÷ after the first: **${h.ratio.toFixed(3)}** (${ok} the 10 % goal). ${h.requests.toLocaleString('en')} requests (${h.perRoute.toLocaleString('en')} per route and pass) in ${h.seconds.toFixed(0)} s.`,
    '',
    '| route | 2xx | 4xx | 5xx | no answer |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(h.byRoute).map(
      ([route, c]) => `| ${route} | ${c['2xx']} | ${c['4xx']} | ${c['5xx']} | ${c.failed} |`,
    ),
  ].join('\n');
}
