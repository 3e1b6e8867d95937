// Install at scale: the app (its own process, SQLite) installed on many emulated portals, a
// fixed number at once, against Bitrix24's per-portal limits scaled ×10. Measured against the
// protocol's floor in the same run: the same install POSTs to a route that does nothing, plus
// the one bind batch the protocol needs, sent straight to each portal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/db/migrate.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { desiredBindings } from '../src/placements/registry.js';
import { freePort } from '../test/helpers/net.js';
import { appEnv } from './lib/app-env.js';
import { APP_ENTRY, type ServerProcess, startServer } from './lib/child.js';
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
}

/** The protocol's minimum for one install: the install POST, then one batch binding everything. */
async function floorInstall(emulator: EmulatorHandle, memberId: string, bareUrl: string): Promise<void> {
  const post = await emulator.installApp(memberId, { appUrl: bareUrl });
  if (post.status !== 200) throw new Error(`floor install on ${memberId}: ${post.status}`);
  const auth = post.payload.body.find(([k]) => k === 'AUTH_ID')?.[1] ?? '';
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
    const app = await startServer(APP_ENTRY, appPort, { env });
    servers.push(app);
    const bare = await startServer('bench/lib/bare-install-server.ts', barePort);
    servers.push(bare);

    const floorStart = performance.now();
    const handle = emulator;
    await pool(floorMembers, INSTALL_CONCURRENCY, (m) => floorInstall(handle, m, bare.url));
    const floorSeconds = (performance.now() - floorStart) / 1000;

    emulator.stats.reset();
    const start = performance.now();
    const failures = await installConcurrently(emulator, members, INSTALL_CONCURRENCY);
    const seconds = (performance.now() - start) / 1000;
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
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await emulator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function installTable(r: InstallResult): string {
  const per = (n: number) => ratio(n / r.portals);
  return [
    `| Install on ${r.portals} portals, ${INSTALL_CONCURRENCY} at once (emulator X = ${X}, Y = ${Y}/s per portal: real ×10; app on SQLite) | result |`,
    '| --- | --- |',
    `| installs/s | ${ratio(r.portals / r.seconds, 1)} |`,
    `| total time | ${ratio(r.seconds, 1)} s |`,
    `| time ÷ minimum (${ratio(r.floorSeconds, 1)} s, see below) | ${ratio(r.seconds / r.floorSeconds)} |`,
    `| REST requests per install (minimum 1: one batch binds everything) | ${per(r.restRequests)} |`,
    `| OAuth requests per install (minimum 0; 1 to verify the install tokens, as this app does) | ${per(r.oauthRequests)} |`,
    `| 503s from the portals | ${r.responses503} |`,
    `| installs failed / bindings incomplete afterwards | ${r.failed} / ${r.incomplete} |`,
  ].join('\n');
}

export const INSTALL_MINIMUM_NOTE =
  'Minimum: one request per portal never meets the limits (the bucket holds X), so the floor is the protocol itself, timed in the same run at the same concurrency: the install POSTs to a route that only parses them, each followed by the one bind batch sent straight to the portal.';
