// Benchmark: our REST client vs the official SDK's server-side client (B24OAuth from
// @bitrix24/b24jssdk), same workloads, against the local emulator with a fast bucket
// (X = 50, Y = 100/s). Loopback only; bounded in count and time.
//
//   npx tsx bench/rest-client.bench.ts
//
// Prints a Markdown table and appends it to BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B24OAuth } from '@bitrix24/b24jssdk';
import { Bitrix24ClientFactory } from '../src/bitrix24/client-factory.js';
import { PortalLimitsRegistry } from '../src/bitrix24/portal-limits.js';
import { createDb, type Db } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { plaintextCipher } from '../src/installations/cipher.js';
import { PrismaInstallationStore } from '../src/installations/prisma-store.js';
import { TokenManager } from '../src/installations/tokens.js';
import type { Installation } from '../src/installations/types.js';

const X = 50;
const Y = 100;
const SINGLE_CALLS = 600;
const BATCH_OPERATIONS = 5_000;
const EXPIRY_CALLS = 100;
const TWO_PROCESS_CALLS = 50; // per process
const SCENARIO_TIMEOUT_MS = 60_000;

interface Outcome {
  ok: number;
  failed: number;
}

/** What one library has to provide for the workloads. */
interface Subject {
  call(method: string): Promise<unknown>;
  batch(commands: [string, Record<string, unknown>][]): Promise<number>;
}

async function settle(promises: Promise<unknown>[]): Promise<Outcome> {
  const results = await Promise.allSettled(promises);
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { ok: results.length - failed, failed };
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what} did not finish in ${SCENARIO_TIMEOUT_MS} ms`)),
        SCENARIO_TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

// ---- our client

class OurApp {
  private constructor(
    readonly dbs: Db[],
    readonly installation: Installation,
    readonly emulator: EmulatorHandle,
    readonly dir: string,
    readonly url: string,
  ) {}

  static async create(emulator: EmulatorHandle): Promise<OurApp> {
    const dir = mkdtempSync(join(tmpdir(), 'b24-bench-'));
    const url = `file:${join(dir, 'bench.db')}`;
    await migrate(url);
    const { db } = createDb(url);
    const store = new PrismaInstallationStore(db, plaintextCipher);
    const portal = emulator.portal();
    const grant = emulator.issueTokens();
    const installation = await store.save(
      {
        memberId: portal.memberId,
        domain: portal.domain,
        clientEndpoint: portal.clientEndpoint,
        status: 'active',
      },
      {
        accessToken: grant.access_token,
        refreshToken: grant.refresh_token,
        expiresAt: new Date(Date.now() + grant.expires_in * 1000),
      },
    );
    return new OurApp([db], installation, emulator, dir, url);
  }

  /** One "app process": its own database client, token manager and per-portal limits. */
  process(owner: string): { subject: Subject; tokens: TokenManager } {
    const { db } = createDb(this.url);
    this.dbs.push(db);
    const app = this.emulator.apps[0]!;
    const tokens = new TokenManager({
      store: new PrismaInstallationStore(db, plaintextCipher),
      oauth: { oauthUrl: this.emulator.oauthUrl, clientId: app.clientId, clientSecret: app.clientSecret },
      owner,
    });
    const factory = new Bitrix24ClientFactory({
      tokens,
      limits: new PortalLimitsRegistry({ capacity: X, drainPerSecond: Y }),
      allowHttp: true,
    });
    const client = factory.forInstallation(this.installation);
    return {
      tokens,
      subject: {
        call: (method) => client.call(method),
        batch: async (commands) => {
          const named = Object.fromEntries(
            commands.map(([method, params], i) => [`c${i}`, { method, params }]),
          );
          const out = await client.batch(named);
          return Object.keys(out.result).length;
        },
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.dbs.map((db) => db.$disconnect()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- the official SDK

function sdkInstance(emulator: EmulatorHandle, grant: ReturnType<EmulatorHandle['issueTokens']>): Subject {
  const app = emulator.apps[0]!;
  const b24 = new B24OAuth(
    {
      applicationToken: '',
      userId: grant.user_id,
      memberId: grant.member_id,
      accessToken: grant.access_token,
      refreshToken: grant.refresh_token,
      expires: grant.expires,
      expiresIn: grant.expires_in,
      scope: grant.scope,
      domain: emulator.portal().domain,
      clientEndpoint: grant.client_endpoint,
      serverEndpoint: grant.server_endpoint,
      status: 'L',
    },
    { clientId: app.clientId, clientSecret: app.clientSecret },
    // Same bucket as ours; everything else as the SDK ships it.
    { restrictionParams: { rateLimit: { burstLimit: X, drainRate: Y, adaptiveEnabled: true } } },
  );
  return {
    call: async (method) => {
      const response = await b24.actions.v2.call.make({ method });
      if (!response.isSuccess) throw new Error(response.getErrorMessages().join('; '));
      return response.getData()?.result;
    },
    // Chunks of 50 sent together, as ours does (the SDK's batchByChunk sends them one by one).
    batch: async (commands) => {
      const chunks: [string, Record<string, unknown>][][] = [];
      for (let i = 0; i < commands.length; i += 50) chunks.push(commands.slice(i, i + 50));
      const counts = await Promise.all(
        chunks.map(async (chunk) => {
          const response = await b24.actions.v2.batch.make({
            calls: chunk,
            options: { isHaltOnError: false, returnAjaxResult: false },
          });
          if (!response.isSuccess) throw new Error(response.getErrorMessages().join('; '));
          const data = response.getData() as unknown;
          return Array.isArray(data) ? data.length : Object.keys(data as object).length;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}

// ---- workloads

interface Results {
  single: { seconds: number; ok: number; failed: number; http503: number; requests: number };
  batch: { seconds: number; ops: number; failed: number; http503: number; requests: number };
  expiry: { refreshes: number; refreshFailures: number; failed: number };
  twoProcess: { refreshes: number; refreshFailures: number; failed: number };
}

type Setup = (
  emulator: EmulatorHandle,
) => Promise<{ make: (name: string) => Subject; close: () => Promise<void> }>;

async function fresh<T>(fn: (emulator: EmulatorHandle) => Promise<T>): Promise<T> {
  const emulator = await startEmulator({ limits: { bucketSize: X, drainPerSecond: Y } });
  try {
    return await withTimeout(fn(emulator), 'scenario');
  } finally {
    await emulator.close();
  }
}

async function run(setup: Setup): Promise<Results> {
  const single = await fresh(async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    const started = performance.now();
    const outcome = await settle(Array.from({ length: SINGLE_CALLS }, () => subject.call('app.info')));
    const seconds = (performance.now() - started) / 1000;
    const stats = emulator.stats.portal();
    await env.close();
    return { seconds, ...outcome, http503: stats.responses503, requests: stats.restRequests };
  });

  const batch = await fresh(async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    const commands = Array.from({ length: BATCH_OPERATIONS }, (): [string, Record<string, unknown>] => [
      'user.current',
      {},
    ]);
    const started = performance.now();
    let ops = 0;
    let failed = 0;
    try {
      ops = await subject.batch(commands);
    } catch {
      failed = 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const stats = emulator.stats.portal();
    await env.close();
    return { seconds, ops, failed, http503: stats.responses503, requests: stats.restRequests };
  });

  const expiry = await fresh(async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    await subject.call('app.info');
    emulator.expireTokens(); // the app still believes its token is good
    const outcome = await settle(Array.from({ length: EXPIRY_CALLS }, () => subject.call('user.current')));
    const oauth = emulator.stats.snapshot().oauth;
    await env.close();
    return {
      refreshes: oauth.refreshRequests,
      refreshFailures: oauth.refreshFailures,
      failed: outcome.failed,
    };
  });

  const twoProcess = await fresh(async (emulator) => {
    const env = await setup(emulator);
    const a = env.make('p1');
    const b = env.make('p2');
    await Promise.all([a.call('app.info'), b.call('app.info')]);
    emulator.expireTokens();
    const outcome = await settle(
      Array.from({ length: TWO_PROCESS_CALLS * 2 }, (_, i) => (i % 2 ? a : b).call('user.current')),
    );
    const oauth = emulator.stats.snapshot().oauth;
    await env.close();
    return {
      refreshes: oauth.refreshRequests,
      refreshFailures: oauth.refreshFailures,
      failed: outcome.failed,
    };
  });

  return { single, batch, expiry, twoProcess };
}

const ours: Setup = async (emulator) => {
  const app = await OurApp.create(emulator);
  return { make: (name) => app.process(name).subject, close: () => app.close() };
};

const sdk: Setup = async (emulator) => {
  // Two "processes" of the SDK start from the same stored tokens, as two app servers would.
  const grant = emulator.issueTokens();
  return { make: () => sdkInstance(emulator, grant), close: async () => {} };
};

// ---- report

const fmt = (n: number, digits = 2) => n.toFixed(digits);

function table(our: Results, their: Results): string {
  const idealSeconds = Math.max(0, SINGLE_CALLS - X) / Y;
  const row = (label: string, a: string, b: string) => `| ${label} | ${a} | ${b} |`;
  const both = (f: (r: Results) => string) => [f(our), f(their)] as const;
  const rows = [
    row(
      `${SINGLE_CALLS} single calls at once: requests/s ÷ Y`,
      ...both((r) => fmt(r.single.ok / r.single.seconds / Y)),
    ),
    row(
      `… time vs the bucket's ideal schedule (${fmt(idealSeconds, 1)} s)`,
      ...both((r) => `${fmt(r.single.seconds, 1)} s (${fmt(idealSeconds / r.single.seconds)})`),
    ),
    row('… 503s sent by the portal', ...both((r) => String(r.single.http503))),
    row('… calls failed for the caller', ...both((r) => String(r.single.failed))),
    row(
      `${BATCH_OPERATIONS} operations via batch: operations/s ÷ (50·Y)`,
      ...both((r) => fmt(r.batch.ops / r.batch.seconds / (50 * Y))),
    ),
    row('… HTTP requests, 503s', ...both((r) => `${r.batch.requests}, ${r.batch.http503}`)),
    row(
      `${EXPIRY_CALLS} concurrent calls, token expired mid-flight: refresh requests`,
      ...both((r) => String(r.expiry.refreshes)),
    ),
    row('… calls failed', ...both((r) => String(r.expiry.failed))),
    row(
      `two processes × ${TWO_PROCESS_CALLS} calls on one expired token: refresh requests (refused)`,
      ...both((r) => `${r.twoProcess.refreshes} (${r.twoProcess.refreshFailures})`),
    ),
    row('… calls failed', ...both((r) => String(r.twoProcess.failed))),
  ];
  return [
    '| Workload (emulator, X = 50, Y = 100/s) | ours (src/bitrix24) | b24jssdk 2.2.0 B24OAuth |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

async function main() {
  const our = await run(ours);
  const their = await run(sdk);
  const cores = execFileSync('nproc').toString().trim();
  const header = [
    `## REST client vs b24jssdk B24OAuth — ${new Date().toISOString()}`,
    '',
    `Machine: ${cores} cores, Node ${process.version}. Command: \`npx tsx bench/rest-client.bench.ts\`.`,
    'Same emulator workloads for both; the SDK with its restriction manager set to the same X and Y,',
    'two SDK "processes" = two B24OAuth instances built from the same stored tokens; ours = two',
    'TokenManagers on two database clients. Ratios: 1.00 = as fast as the bucket allows.',
    '',
  ].join('\n');
  const report = `${header}\n${table(our, their)}\n`;
  process.stdout.write(`${report}\n`);
  const file = join(process.cwd(), 'BENCHMARKS.md');
  appendFileSync(file, `${existsSync(file) ? '\n' : '# Benchmarks\n\n'}${report}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
