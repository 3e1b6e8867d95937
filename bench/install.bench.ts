// Install at scale: the app (its own process, SQLite) installed on many emulated portals, a
// fixed number at once, against Bitrix24's per-portal limits scaled ×10. Measured against the
// protocol's floor in the same run: the same install POSTs to a route that does nothing, plus
// the requests a safe install cannot do without, sent straight from here: the OAuth server's
// word on the token (app.info), user.admin (only an administrator installs: issue #13), and the
// one bind batch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { migrate } from '../src/db/migrate.js';
import { desiredBindings } from '../src/placements/registry.js';
import { freePort } from '../test/helpers/net.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, profileFlags, type ServerProcess, startServer } from './lib/child.js';
import { incompleteInstalls, installConcurrently } from './lib/install-many.js';
import { ratio } from './lib/machine.js';
import { pool } from './lib/pool.js';
import { memberIds } from './lib/portals.js';
import { MANY_PORTALS, scaled } from './lib/scale.js';

// Real Bitrix24: X = 50, Y = 2/s per portal; ×10 here.
const X = 500;
const Y = 20;
export const INSTALL_CONCURRENCY = 20;

export interface InstallResult {
  portals: number;
  seconds: number;
  floorSeconds: number;
  restRequests: number;
  oauthRequests: number;
  responses503: number;
  failed: number;
  incomplete: number;
  /** CPU time (user + system) of the app process while it installed, ms; null without /proc. */
  appCpuMs: number | null;
  /** The same for the floor's install route while the floor ran. */
  floorCpuMs: number | null;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time a process has used so far (user + system, ms), from /proc (null elsewhere): unlike
 * wall time, it hardly moves when other work shares the machine.
 */
function cpuMs(pid: number): number | null {
  try {
    // Fields after the command name: state is field 3, utime 14, stime 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

const cpuSince = (pid: number, before: number | null) => {
  const after = cpuMs(pid);
  return before === null || after === null ? null : after - before;
};

/** POSTs a form and answers its JSON, or throws naming what failed. */
async function postForm(url: string, form: Record<string, string>, what: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as { result?: unknown };
  if (res.status !== 200 || body.result === undefined) throw new Error(`${what}: ${res.status}`);
  return body.result;
}

/**
 * The protocol's minimum for one safe install: the install POST; the OAuth server's app.info on
 * the posted token and user.admin (both required to trust it); one batch binding everything.
 */
async function floorInstall(emulator: EmulatorHandle, memberId: string, bareUrl: string): Promise<void> {
  const post = await emulator.installApp(memberId, { appUrl: bareUrl });
  if (post.status !== 200) throw new Error(`floor install on ${memberId}: ${post.status}`);
  const auth = post.payload.body.find(([k]) => k === 'AUTH_ID')?.[1] ?? '';
  await postForm(`${emulator.oauthUrl}/rest/app.info`, { auth }, `floor app.info on ${memberId}`);
  const admin = await postForm(
    `${emulator.portal(memberId).clientEndpoint}user.admin`,
    { auth },
    `floor user.admin on ${memberId}`,
  );
  if (admin !== true) throw new Error(`floor user.admin on ${memberId}: ${String(admin)}`);
  const cmd = Object.fromEntries(
    desiredBindings(bareUrl, [], 'en').map((b, i) => {
      const params: Record<string, string> =
        b.kind === 'event'
          ? { event: b.code, handler: b.handler }
          : {
              'fields[PLACEMENT]': b.code,
              'fields[PLACEMENT_HANDLER]': b.handler,
              'fields[TITLE]': b.title ?? '',
            };
      const method = b.kind === 'event' ? 'event.bind' : 'landing.repo.bind';
      return [`b${i}`, `${method}?${new URLSearchParams(params)}`];
    }),
  );
  const res = await fetch(`${emulator.portal(memberId).clientEndpoint}batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth, halt: 0, cmd }),
  });
  const body = (await res.json()) as { result?: { result_error?: object } };
  if (res.status !== 200 || Object.keys(body.result?.result_error ?? {}).length) {
    throw new Error(`floor bind on ${memberId}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  emulator.finishInstall(memberId);
}

export async function installBench(): Promise<InstallResult> {
  const portals = scaled(1000, 10);
  const members = memberIds('1a57a', portals);
  const floorMembers = memberIds('f1008', portals);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-install-'));
  const databaseUrl = `file:${join(tmp, 'app.db')}`;
  await migrate(databaseUrl);
  const [appPort, barePort] = [await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${appPort}`;
  let emulator: EmulatorHandle | undefined;
  const servers: ServerProcess[] = [];
  try {
    emulator = await startEmulator({
      appUrl: publicUrl,
      portals: [...members, ...floorMembers].map((memberId) => ({ memberId, appsInstalled: false })),
      limits: { bucketSize: X, drainPerSecond: Y },
      ...MANY_PORTALS,
    });
    // The app's own pacing set to the same limits the portals enforce.
    const env = appEnv(emulator, publicUrl, databaseUrl, {
      B24_RATE_LIMIT_BURST: String(X),
      B24_RATE_LIMIT_PER_SECOND: String(Y),
    });
    const app = await startServer(APP_ENTRY, appPort, { env, nodeFlags: profileFlags() });
    servers.push(app);
    const bare = await startServer('bench/lib/bare-install-server.ts', barePort);
    servers.push(bare);

    const floorStart = performance.now();
    const floorCpuStart = cpuMs(bare.pid);
    const handle = emulator;
    await pool(floorMembers, INSTALL_CONCURRENCY, (m) => floorInstall(handle, m, bare.url));
    const floorSeconds = (performance.now() - floorStart) / 1000;
    const floorCpuMs = cpuSince(bare.pid, floorCpuStart);

    emulator.stats.reset();
    const start = performance.now();
    const appCpuStart = cpuMs(app.pid);
    const failures = await installConcurrently(emulator, members, INSTALL_CONCURRENCY);
    const seconds = (performance.now() - start) / 1000;
    const appCpuMs = cpuSince(app.pid, appCpuStart);
    for (const f of failures.slice(0, 3)) process.stderr.write(`install failed: ${JSON.stringify(f)}\n`);

    const stats = emulator.stats.snapshot();
    const portalStats = members.map((m) => stats.portals[m]);
    return {
      portals,
      seconds,
      floorSeconds,
      restRequests: portalStats.reduce((n, p) => n + (p?.restRequests ?? 0), 0),
      oauthRequests: stats.oauth.requests,
      responses503: stats.responses503,
      failed: failures.length,
      incomplete: incompleteInstalls(emulator, members, publicUrl).length,
      appCpuMs,
      floorCpuMs,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await emulator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function installTable(r: InstallResult): string {
  const per = (n: number) => ratio(n / r.portals);
  const cpuPer = (ms: number | null) => (ms === null ? '—' : `${ratio(ms / r.portals)} ms`);
  return [
    `| Install on ${r.portals} portals, ${INSTALL_CONCURRENCY} at once (emulator X = ${X}, Y = ${Y}/s per portal: real ×10; app on SQLite) | result |`,
    '| --- | --- |',
    `| installs/s | ${ratio(r.portals / r.seconds, 1)} |`,
    `| total time | ${ratio(r.seconds, 1)} s |`,
    `| time ÷ minimum (${ratio(r.floorSeconds, 1)} s, see below) | ${ratio(r.seconds / r.floorSeconds)} |`,
    `| app CPU per install, user + system (the floor's install route: ${cpuPer(r.floorCpuMs)}) | ${cpuPer(r.appCpuMs)} |`,
    `| REST requests per install (minimum 2: user.admin, and one batch binds everything) | ${per(r.restRequests)} |`,
    `| OAuth requests per install (minimum 1: the OAuth server's app.info vouches for the token; nothing spent) | ${per(r.oauthRequests)} |`,
    `| 503s from the portals | ${r.responses503} |`,
    `| installs failed / bindings incomplete afterwards | ${r.failed} / ${r.incomplete} |`,
  ].join('\n');
}

export const INSTALL_MINIMUM_NOTE =
  "Minimum: a few requests per portal never meet the limits (the bucket holds X), so the floor is the protocol itself, timed in the same run at the same concurrency: the install POSTs to a route that only parses them, each followed by what a safe install cannot do without, sent straight from the bench: the OAuth server's app.info on the posted token, user.admin, and the one bind batch.";
