// A running emulator, a fresh database with one installation holding emulator-issued tokens,
// and the token manager + client factory wired as the app wires them ("one app process").
import { Writable } from 'node:stream';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from 'bitrix24-emulator';
import pino, { type Logger } from 'pino';
import { Bitrix24ClientFactory } from '../../src/bitrix24/client-factory.js';
import { type PortalLimitsOptions, PortalLimitsRegistry } from '../../src/bitrix24/portal-limits.js';
import type { RetryOptions } from '../../src/bitrix24/retry-policy.js';
import type { Db } from '../../src/db/client.js';
import { plaintextCipher } from '../../src/installations/cipher.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import { TokenManager, type TokenManagerOptions } from '../../src/installations/tokens.js';
import type { Installation, InstallationStore } from '../../src/installations/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** Log lines written by everything under test, to check what gets logged (and what never does). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk, _enc, done) => {
        this.lines.push(String(chunk));
        done();
      },
    }),
  );

  text(): string {
    return this.lines.join('');
  }
}

export interface AppProcess {
  store: InstallationStore;
  tokens: TokenManager;
  factory: Bitrix24ClientFactory;
}

export interface ProcessOptions {
  owner: string;
  limits?: PortalLimitsOptions;
  retry?: RetryOptions;
  timeoutMs?: number;
  tokens?: Partial<TokenManagerOptions>;
  /** Wraps the process's store (a suite replacing some of its methods). */
  store?: (store: InstallationStore) => InstallationStore;
}

export function appProcess(
  env: { emulator: EmulatorHandle; logs: LogCapture },
  db: Db,
  options: ProcessOptions,
): AppProcess {
  const base = new PrismaInstallationStore(db, plaintextCipher);
  const store = options.store ? options.store(base) : base;
  const app = env.emulator.apps[0]!;
  const tokens = new TokenManager({
    store,
    oauth: { oauthUrl: env.emulator.oauthUrl, clientId: app.clientId, clientSecret: app.clientSecret },
    owner: options.owner,
    logger: env.logs.logger,
    ...options.tokens,
  });
  const factory = new Bitrix24ClientFactory({
    tokens,
    limits: new PortalLimitsRegistry(options.limits ?? { capacity: 50, drainPerSecond: 50 }),
    logger: env.logs.logger,
    allowHttp: true,
    retry: { baseDelayMs: 20, rateLimitBaseDelayMs: 50, ...options.retry },
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  return { store, tokens, factory };
}

export interface TestEnv extends AppProcess {
  emulator: EmulatorHandle;
  testDb: TestDatabase;
  logs: LogCapture;
  installation: Installation;
  /** Every token the emulator issued in setup, to check logs never contain them. */
  secrets: string[];
  close(): Promise<void>;
}

export interface EnvOptions {
  emulator?: EmulatorOptions;
  process?: Partial<ProcessOptions>;
}

export async function createTestEnv(options: EnvOptions = {}): Promise<TestEnv> {
  const emulator = await startEmulator({
    limits: { bucketSize: 50, drainPerSecond: 50 },
    ...options.emulator,
  });
  const testDb = await createTestDatabase();
  const logs = new LogCapture();
  const proc = appProcess({ emulator, logs }, testDb.db, { owner: 'process-a', ...options.process });
  const portal = emulator.portal();
  const grant = emulator.issueTokens();
  const installation = await proc.store.save(
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
      userId: grant.user_id,
    },
  );
  return {
    ...proc,
    emulator,
    testDb,
    logs,
    installation,
    secrets: [grant.access_token, grant.refresh_token, emulator.apps[0]!.clientSecret],
    async close() {
      await emulator.close();
      await testDb.close();
    },
  };
}

/** Makes the stored pair look expired to the app (and, with `atPortal`, at the emulator too). */
export async function expireStoredTokens(env: TestEnv, atPortal = true): Promise<void> {
  const stored = await env.store.getTokens(env.installation.id);
  if (!stored) throw new Error('no tokens');
  await env.store.replaceTokens(env.installation.id, stored.version, {
    ...stored,
    expiresAt: new Date(Date.now() - 1000),
  });
  if (atPortal) env.emulator.expireTokens();
}
