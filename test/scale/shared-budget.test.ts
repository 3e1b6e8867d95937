// The shared rate budget's statement and bucket on a real PostgreSQL database, with two
// database clients standing for two app processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline, DeadlineExceededError } from '../../src/bitrix24/deadline.js';
import { PgRateBudget, SharedLeakyBucket } from '../../src/bitrix24/shared-budget.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createTempPgDatabase } from '../helpers/postgres.js';

let database: { url: string; drop: () => Promise<void> };
const dbs: Db[] = [];
let storeA: PgRateBudget;
let storeB: PgRateBudget;

beforeAll(async () => {
  database = await createTempPgDatabase('sharedbudget');
  await migrate(database.url);
  for (let i = 0; i < 2; i++) dbs.push(createDb(database.url).db);
  storeA = new PgRateBudget(dbs[0]!);
  storeB = new PgRateBudget(dbs[1]!);
}, 60_000);

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.$disconnect()));
  await database?.drop();
});

// Y = 1: a test's few milliseconds drain a few thousandths of a request.
const Y = 1;
const open = { drainPerSecond: Y, floor: 0, grantBelow: Number.MAX_VALUE };

describe('PgRateBudget', () => {
  it('counts the reservations of every process in one level', async () => {
    const levels: number[] = [];
    for (let i = 0; i < 6; i++) levels.push((await (i % 2 ? storeB : storeA).reserve('portal-a', open))!);
    for (const [i, level] of levels.entries()) expect(level).toBeCloseTo(i + 1, 1);
  });

  it('grants nothing (and writes nothing) when the turn would come after the deadline', async () => {
    for (let i = 0; i < 8; i++) await storeA.reserve('portal-b', open);
    expect(await storeB.reserve('portal-b', { ...open, grantBelow: 8.5 })).toBeNull();
    expect(await storeB.reserve('portal-b', open)).toBeCloseTo(9, 1);
  });

  it('raises the level to the floor a 503 sets, then counts on from there', async () => {
    expect(await storeA.reserve('portal-c', { ...open, floor: 50 })).toBe(51);
    expect(await storeB.reserve('portal-c', open)).toBeCloseTo(52, 1);
    await storeA.giveBack('portal-c', Y);
    expect(await storeB.reserve('portal-c', open)).toBeCloseTo(52, 1);
  });
});

describe('SharedLeakyBucket', () => {
  // capacity 10, one in flight, one spare: 8 requests go at once, then one per second.
  const bucket = (store: PgRateBudget, memberId: string) =>
    new SharedLeakyBucket({ memberId, store, capacity: 10, drainPerSecond: Y, maxInFlight: 1 });

  it('makes a process wait for the turns another process took', async () => {
    const a = bucket(storeA, 'portal-d');
    for (let i = 0; i < 8; i++) (await a.acquire())();
    const b = bucket(storeB, 'portal-d');
    await expect(b.acquire(undefined, Deadline.after(300))).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(b.getStats().reserved).toBe(0);
  });

  it('carries a 503 to the next reservation, and gives back a turn that was never used', async () => {
    const a = bucket(storeA, 'portal-e');
    a.markFull();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('caller gave up')), 100);
    // Raised to X = 10 plus this request: 3 s to wait, given up after 0.1 s.
    await expect(a.acquire(controller.signal)).rejects.toThrow('caller gave up');
    await new Promise((r) => setTimeout(r, 50)); // the give-back is not awaited by the caller
    const level = (await storeB.reserve('portal-e', open))!;
    expect(level).toBeGreaterThan(10.5);
    expect(level).toBeLessThanOrEqual(11);
  });

  it('paces the process alone when the database cannot be reached', async () => {
    const unreachable = createDb('postgresql://postgres@127.0.0.1:1/none').db;
    try {
      const lonely = bucket(new PgRateBudget(unreachable), 'portal-f');
      for (let i = 0; i < 8; i++) (await lonely.acquire())();
      await expect(lonely.acquire(undefined, Deadline.after(300))).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
    } finally {
      await unreachable.$disconnect();
    }
  });
});

describe('B24_RATE_BUDGET', () => {
  const base = { PUBLIC_URL: 'https://app.example.com', B24_CLIENT_ID: 'id', B24_CLIENT_SECRET: 'secret' };
  const pgEnv = { ...base, DATABASE_URL: 'postgresql://u@db/app', TOKEN_ENCRYPTION_KEY: 'a'.repeat(64) };
  const shared = (env: Record<string, string>) => loadConfig(env).bitrix24.rateLimit.shared;

  it('shares the bucket on PostgreSQL unless told per-process; SQLite keeps it in memory', () => {
    expect(shared(pgEnv)).toBe(true);
    expect(shared({ ...pgEnv, B24_RATE_BUDGET: 'per-process' })).toBe(false);
    expect(shared(base)).toBe(false);
  });

  it('refuses a shared bucket on SQLite and unknown values', () => {
    expect(() => loadConfig({ ...base, B24_RATE_BUDGET: 'shared' })).toThrow(
      /B24_RATE_BUDGET=shared needs PostgreSQL/,
    );
    expect(() => loadConfig({ ...pgEnv, B24_RATE_BUDGET: 'redis' })).toThrow(ConfigError);
  });
});
