// Token refresh storm: every installation's access token expires at the same moment while
// calls keep coming, 10 at once per installation, through our TokenManager and REST client on
// PostgreSQL. Run with one "process" (one database client, token manager and client factory)
// and with two racing on the same database. A refresh token is single-use, so the goal is
// exactly one refresh per installation and no failed call.

import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import type { Bitrix24Client } from '../src/bitrix24/client.js';
import { Bitrix24ClientFactory } from '../src/bitrix24/client-factory.js';
import { createDb, type Db } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { plaintextCipher } from '../src/installations/cipher.js';
import { PrismaInstallationStore } from '../src/installations/prisma-store.js';
import { TokenManager } from '../src/installations/tokens.js';
import type { Installation } from '../src/installations/types.js';
import { createTempPgDatabase } from '../test/helpers/postgres.js';
import { ratio } from './lib/machine.js';
import { pool } from './lib/pool.js';
import { memberIds } from './lib/portals.js';
import { MANY_PORTALS, scaled } from './lib/scale.js';

export const CALLS_PER_INSTALLATION = 10;

export interface StormResult {
  processes: number;
  installations: number;
  seconds: number;
  refreshRequests: number;
  refreshRefused: number;
  /** Installations that saw exactly one refresh. */
  exactlyOne: number;
  calls: number;
  failedCalls: number;
  responses503: number;
  waitedForOtherProcess: number;
}

interface AppProcess {
  db: Db;
  tokens: TokenManager;
  clients: Map<number, Bitrix24Client>;
}

/** One "app process": its own database client, token manager, client factory and portal limits. */
function appProcess(emulator: EmulatorHandle, url: string, owner: string, installations: Installation[]) {
  const { db } = createDb(url);
  const app = emulator.apps[0]!;
  const tokens = new TokenManager({
    store: new PrismaInstallationStore(db, plaintextCipher),
    oauth: { oauthUrl: emulator.oauthUrl, clientId: app.clientId, clientSecret: app.clientSecret },
    owner,
  });
  const factory = new Bitrix24ClientFactory({ tokens, allowHttp: true });
  const clients = new Map(installations.map((i) => [i.id, factory.forInstallation(i)]));
  return { db, tokens, clients } satisfies AppProcess;
}

export async function refreshStormBench(processCount: number): Promise<StormResult> {
  const members = memberIds(`5707${processCount}`, scaled(200, 10));
  const pg = await createTempPgDatabase('storm');
  const processes: AppProcess[] = [];
  let emulator: EmulatorHandle | undefined;
  let setupDb: Db | undefined;
  try {
    await migrate(pg.url);
    // Real Bitrix24 limits (X = 50, Y = 2/s): a warm-up call, 10 calls and their retries fit.
    emulator = await startEmulator({ portals: members.map((memberId) => ({ memberId })), ...MANY_PORTALS });
    const handle = emulator;
    setupDb = createDb(pg.url).db;
    const store = new PrismaInstallationStore(setupDb, plaintextCipher);
    const installations = await pool(members, 20, (memberId) => {
      const portal = handle.portal(memberId);
      const grant = handle.issueTokens(memberId);
      return store.save(
        { memberId, domain: portal.domain, clientEndpoint: portal.clientEndpoint, status: 'active' },
        {
          accessToken: grant.access_token,
          refreshToken: grant.refresh_token,
          expiresAt: new Date(Date.now() + grant.expires_in * 1000),
        },
      );
    });
    for (let p = 0; p < processCount; p++)
      processes.push(appProcess(emulator, pg.url, `storm-${p}`, installations));

    // Calls are flowing: every process has used every installation's current token once.
    for (const proc of processes)
      await pool(installations, 50, (i) => proc.clients.get(i.id)!.call('app.info'));

    emulator.stats.reset();
    for (const m of members) emulator.expireTokens(m);
    const start = performance.now();
    const outcomes = await Promise.allSettled(
      installations.flatMap((installation) =>
        Array.from({ length: CALLS_PER_INSTALLATION }, (_, c) =>
          processes[c % processCount]!.clients.get(installation.id)!.call('app.info'),
        ),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const failed = outcomes.filter((o) => o.status === 'rejected');
    for (const f of failed.slice(0, 3)) process.stderr.write(`call failed: ${String(f.reason)}\n`);

    const stats = emulator.stats.snapshot();
    return {
      processes: processCount,
      installations: members.length,
      seconds,
      refreshRequests: stats.oauth.refreshRequests,
      refreshRefused: stats.oauth.refreshFailures,
      exactlyOne: members.filter((m) => stats.portals[m]?.refreshRequests === 1).length,
      calls: outcomes.length,
      failedCalls: failed.length,
      responses503: stats.responses503,
      waitedForOtherProcess: processes.reduce((n, p) => n + p.tokens.stats.waitedForOtherProcess, 0),
    };
  } finally {
    await Promise.all(processes.map((p) => p.db.$disconnect()));
    await setupDb?.$disconnect();
    await emulator?.close();
    await pg.drop();
  }
}

export function stormTable(results: StormResult[]): string {
  const row = (label: string, cell: (r: StormResult) => string) =>
    `| ${label} | ${results.map(cell).join(' | ')} |`;
  return [
    `| Every token expired at once, ${CALLS_PER_INSTALLATION} concurrent calls per installation (PostgreSQL) | ${results.map((r) => `${r.processes} process${r.processes > 1 ? 'es' : ''}`).join(' | ')} |`,
    `| --- |${results.map(() => ' --- |').join('')}`,
    row('installations', (r) => String(r.installations)),
    row('refresh requests (goal: one per installation)', (r) => String(r.refreshRequests)),
    row('… ÷ installations (goal 1.00)', (r) => ratio(r.refreshRequests / r.installations)),
    row('installations with exactly one refresh', (r) => `${r.exactlyOne} / ${r.installations}`),
    row('refreshes refused by the OAuth server', (r) => String(r.refreshRefused)),
    row('calls failed', (r) => `${r.failedCalls} / ${r.calls}`),
    row('503s from the portals', (r) => String(r.responses503)),
    row('times a process waited for the other’s refresh', (r) => String(r.waitedForOtherProcess)),
    row('time from expiry until every call answered', (r) => `${ratio(r.seconds, 1)} s`),
  ].join('\n');
}
