// Benchmark: our REST client vs the official SDK's server-side client (B24OAuth from
// @bitrix24/b24jssdk), same workloads, against the local emulator with a fast bucket
// (X = 50, Y = 100/s). Loopback only; bounded in count and time. The emulator runs in its own
// process (bench/lib/emulator-process.ts): in this one it would compete with the clients for
// CPU and its latency would be part of what we measure.
//
//   npx tsx bench/rest-client.bench.ts
//
// Prints a Markdown table and appends it to BENCHMARKS.md (BENCH_NO_APPEND=1: print only).
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B24OAuth } from '@bitrix24/b24jssdk';
import type { TokenResponse } from 'bitrix24-emulator';
import { Bitrix24ClientFactory } from '../src/bitrix24/client-factory.js';
import { PortalLimitsRegistry } from '../src/bitrix24/portal-limits.js';
import { createDb, type Db } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { plaintextCipher } from '../src/installations/cipher.js';
import { PrismaInstallationStore } from '../src/installations/prisma-store.js';
import { TokenManager } from '../src/installations/tokens.js';
import type { Installation } from '../src/installations/types.js';
import { type RemoteEmulator, startRemoteEmulator } from './lib/emulator-remote.js';

const X = 50;
const Y = 100;
const SINGLE_CALLS = 600;
// 1,000 requests of 50: the first X fit in the empty bucket, the other 950 take ~9.5 s at
// Y, so the result is the pacing, not the burst.
const BATCH_OPERATIONS = 50_000;
const BATCH_REQUESTS = BATCH_OPERATIONS / 50;
// Bitrix24 blocks a method past 480 s of execution in 10 minutes (the emulator: 10 ms a call),
// and our client slows down from 384 s. 50,000 calls of one method would measure that limit,
// so the operations rotate over five read methods: 10,000 calls, 100 s each.
const BATCH_METHODS = ['user.current', 'app.info', 'server.time', 'user.admin', 'event.get'];
const EXPIRY_CALLS = 100;
const TWO_PROCESS_CALLS = 50; // per process
// Generous: the batch row ideally takes 9.5 s, but the SDK has been seen to need 50+ s there.
const SCENARIO_TIMEOUT_MS = 120_000;

const fmt = (n: number, digits = 2) => n.toFixed(digits);

type Command = [method: string, params: Record<string, unknown>];

const batchCommands = (n: number) =>
  Array.from({ length: n }, (_, i): Command => [BATCH_METHODS[i % BATCH_METHODS.length]!, {}]);

interface Outcome {
  ok: number;
  failed: number;
}

/** What one library has to provide for the workloads. */
interface Subject {
  call(method: string): Promise<unknown>;
  /**
   * Puts the commands into the library's input shape (not timed: the caller's data), and
   * returns a function that sends them and counts the results.
   */
  prepareBatch(commands: Command[]): () => Promise<number>;
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
    readonly emulator: RemoteEmulator,
    readonly dir: string,
    readonly url: string,
  ) {}

  static async create(emulator: RemoteEmulator): Promise<OurApp> {
    const dir = mkdtempSync(join(tmpdir(), 'b24-bench-'));
    const url = `file:${join(dir, 'bench.db')}`;
    await migrate(url);
    const { db } = createDb(url);
    const store = new PrismaInstallationStore(db, plaintextCipher);
    const portal = emulator.portal();
    const grant = await emulator.issueTokens();
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
        prepareBatch: (commands) => {
          const named = Object.fromEntries(
            commands.map(([method, params], i) => [`c${i}`, { method, params }]),
          );
          return async () => Object.keys((await client.batch(named)).result).length;
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

function sdkInstance(emulator: RemoteEmulator, grant: TokenResponse): Subject {
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
    prepareBatch: (commands) => {
      const chunks: Command[][] = [];
      for (let i = 0; i < commands.length; i += 50) chunks.push(commands.slice(i, i + 50));
      return () => sendChunks(chunks);
    },
  };

  async function sendChunks(chunks: Command[][]): Promise<number> {
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
  }
}

// ---- workloads

interface Timed {
  seconds: number;
  /** The emulator's CPU time ÷ wall time: near 1, it (not the client) set the pace. */
  emulatorBusy: number;
}

interface Results {
  single: Timed & { ok: number; failed: number; http503: number; requests: number };
  batch: Timed & { ops: number; http503: number; requests: number };
  expiry: { refreshes: number; refreshFailures: number; failed: number };
  twoProcess: { refreshes: number; refreshFailures: number; failed: number };
}

type Setup = (
  emulator: RemoteEmulator,
) => Promise<{ make: (name: string) => Subject; close: () => Promise<void> }>;

/** Each scenario gets a new emulator process: an empty bucket, fresh tokens, zeroed stats. */
async function fresh<T>(name: string, fn: (emulator: RemoteEmulator) => Promise<T>): Promise<T> {
  const emulator = await startRemoteEmulator({ limits: { bucketSize: X, drainPerSecond: Y } });
  const started = performance.now();
  try {
    return await withTimeout(fn(emulator), name);
  } finally {
    await emulator.close();
    process.stderr.write(`  ${name}: ${fmt((performance.now() - started) / 1000, 1)} s\n`);
  }
}

async function timed<T>(emulator: RemoteEmulator, fn: () => Promise<T>): Promise<Timed & { value: T }> {
  const cpu = await emulator.stats.cpuSeconds();
  const started = performance.now();
  const value = await fn();
  const seconds = (performance.now() - started) / 1000;
  const emulatorBusy = ((await emulator.stats.cpuSeconds()) - cpu) / seconds;
  return { value, seconds, emulatorBusy };
}

async function run(label: string, setup: Setup): Promise<Results> {
  const single = await fresh(`${label} single`, async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    const { value: outcome, ...time } = await timed(emulator, () =>
      settle(Array.from({ length: SINGLE_CALLS }, () => subject.call('app.info'))),
    );
    const stats = await emulator.stats.portal();
    await env.close();
    return { ...time, ...outcome, http503: stats.responses503, requests: stats.restRequests };
  });

  const batch = await fresh(`${label} batch`, async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    const send = subject.prepareBatch(batchCommands(BATCH_OPERATIONS));
    const { value: ops, ...time } = await timed(emulator, () => send().catch(() => 0));
    const stats = await emulator.stats.portal();
    await env.close();
    return { ...time, ops, http503: stats.responses503, requests: stats.restRequests };
  });

  const expiry = await fresh(`${label} expiry`, async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('p1');
    await subject.call('app.info');
    await emulator.expireTokens(); // the app still believes its token is good
    const outcome = await settle(Array.from({ length: EXPIRY_CALLS }, () => subject.call('user.current')));
    const oauth = await emulator.stats.oauth();
    await env.close();
    return {
      refreshes: oauth.refreshRequests,
      refreshFailures: oauth.refreshFailures,
      failed: outcome.failed,
    };
  });

  const twoProcess = await fresh(`${label} twoProcess`, async (emulator) => {
    const env = await setup(emulator);
    const a = env.make('p1');
    const b = env.make('p2');
    await Promise.all([a.call('app.info'), b.call('app.info')]);
    await emulator.expireTokens();
    const outcome = await settle(
      Array.from({ length: TWO_PROCESS_CALLS * 2 }, (_, i) => (i % 2 ? a : b).call('user.current')),
    );
    const oauth = await emulator.stats.oauth();
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
  const grant = await emulator.issueTokens();
  return { make: () => sdkInstance(emulator, grant), close: async () => {} };
};

// ---- report

/** The bucket's best case for n requests: X at once, the rest at Y per second. */
const idealSeconds = (requests: number) => Math.max(0, requests - X) / Y;

function table(our: Results, their: Results): string {
  const singleIdeal = idealSeconds(SINGLE_CALLS);
  const batchIdeal = idealSeconds(BATCH_REQUESTS);
  const row = (label: string, a: string, b: string) => `| ${label} | ${a} | ${b} |`;
  const both = (f: (r: Results) => string) => [f(our), f(their)] as const;
  const rows = [
    row(
      `${SINGLE_CALLS} single calls at once: requests/s ÷ Y`,
      ...both((r) => fmt(r.single.ok / r.single.seconds / Y)),
    ),
    row(
      `… time vs the bucket's ideal schedule (${fmt(singleIdeal, 1)} s)`,
      ...both((r) => `${fmt(r.single.seconds, 1)} s (${fmt(singleIdeal / r.single.seconds)})`),
    ),
    row('… 503s sent by the portal', ...both((r) => String(r.single.http503))),
    row('… emulator CPU ÷ wall time', ...both((r) => fmt(r.single.emulatorBusy))),
    row('… calls failed for the caller', ...both((r) => String(r.single.failed))),
    row(
      `${BATCH_OPERATIONS} operations via batch (${BATCH_REQUESTS} × 50): time vs ideal (${fmt(batchIdeal, 1)} s)`,
      ...both((r) => `${fmt(r.batch.seconds, 2)} s (${fmt(batchIdeal / r.batch.seconds)})`),
    ),
    row('… operations/s', ...both((r) => fmt(r.batch.ops / r.batch.seconds, 0))),
    row('… operations failed', ...both((r) => String(BATCH_OPERATIONS - r.batch.ops))),
    row('… HTTP requests, 503s', ...both((r) => `${r.batch.requests}, ${r.batch.http503}`)),
    row('… emulator CPU ÷ wall time', ...both((r) => fmt(r.batch.emulatorBusy))),
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

/**
 * Runs a library's code paths once, unmeasured: otherwise whichever library goes first also
 * pays for this process's warm-up (JIT, HTTP stack, database client).
 */
async function warmUp(label: string, setup: Setup): Promise<void> {
  await fresh(`${label} warm-up`, async (emulator) => {
    const env = await setup(emulator);
    const subject = env.make('warm-up');
    await settle(Array.from({ length: 40 }, () => subject.call('app.info')));
    await subject.prepareBatch(batchCommands(500))();
    await env.close();
  });
}

async function main() {
  await warmUp('ours', ours);
  await warmUp('sdk', sdk);
  const our = await run('ours', ours);
  const their = await run('sdk', sdk);
  const cores = execFileSync('nproc').toString().trim();
  const header = [
    `## REST client vs b24jssdk B24OAuth — ${new Date().toISOString()}`,
    '',
    `Machine: ${cores} cores, Node ${process.version}. Command: \`npx tsx bench/rest-client.bench.ts\`.`,
    'Same emulator workloads for both; the SDK with its restriction manager set to the same X and Y,',
    'two SDK "processes" = two B24OAuth instances built from the same stored tokens; ours = two',
    'TokenManagers on two database clients. Ratios: 1.00 = as fast as the bucket allows. The',
    'emulator runs in a child process (warmed up, then reset); the clients share this one. Batch',
    'commands rotate over five read methods, so no method nears the operating-time limit.',
    '',
  ].join('\n');
  const report = `${header}\n${table(our, their)}\n`;
  process.stdout.write(`${report}\n`);
  if (process.env.BENCH_NO_APPEND === '1') return;
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
