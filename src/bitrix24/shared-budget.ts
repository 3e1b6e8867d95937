// One leaky bucket per portal for every app process on a PostgreSQL database. Bitrix24 counts
// all of the app's requests to a portal against one bucket; with a bucket per process, three
// replicas would send three buckets' worth and collect 503s. Here the level lives in one row
// per portal (PortalRateBudget) and each request reserves its turn with one statement: the row
// is drained by the database's clock, the reservation added, and the new level returned, from
// which the caller knows how long to sleep. One database round trip per request sent.
//
// As in the in-process bucket (leaky-bucket.ts), a request counts from the moment its turn is
// granted, and the portal counts it when it arrives: after the database's answer, the sleep and
// the HTTP send. The portal can therefore see at most Y × that delay more than the model (a
// fraction of one request at Y = 2 and tens of milliseconds), and never more than the requests
// in flight; the maxInFlight + headroom slots kept free below X cover that.
//
// Operating time (operating-limit.ts) stays per process: every answer carries the portal's own
// running total for the method, so each process already sees the shared account as of its last
// call; only the spacing of calls past 80 % is per process. Sharing it would cost a second write
// per request (the total arrives after the reservation).
import type { Logger } from 'pino';
import type { Deadline } from './deadline.js';
import { untilAborted } from './deadline.js';
import {
  bucketLimit,
  inFlightLimit,
  LeakyBucket,
  type LeakyBucketOptions,
  type LeakyBucketStats,
  type RateBucket,
  Slots,
} from './leaky-bucket.js';
import { sleep } from './sleep.js';

/** The part of a Prisma client this module uses (kept structural: bitrix24 knows no database). */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

export interface ReserveRequest {
  drainPerSecond: number;
  /** The level the bucket is raised to first (X after a 503, else 0). */
  floor: number;
  /** Grant only when the new level stays below this (the deadline's last turn). */
  grantBelow: number;
}

/** Where the shared levels live. */
export interface RateBudgetStore {
  /** Drains, adds one request and returns the new level; null when not granted (grantBelow). */
  reserve(memberId: string, request: ReserveRequest): Promise<number | null>;
  /** Gives back a granted turn whose request was never sent. */
  giveBack(memberId: string, drainPerSecond: number): Promise<void>;
}

// Seconds since the epoch on the database's clock, read when the row is locked: every process
// drains by this one clock, whatever their own clocks say.
const NOW = 'EXTRACT(EPOCH FROM clock_timestamp())::double precision';
const DRAINED = `GREATEST(b."level" - GREATEST(0, ${NOW} - b."drainedAt") * $2::double precision, $3::double precision)`;

// Constant SQL with bound parameters ($queryRawUnsafe only so that a parameter can be used twice).
const RESERVE = `
INSERT INTO "PortalRateBudget" AS b ("memberId", "level", "drainedAt")
VALUES ($1, $3::double precision + 1, ${NOW})
ON CONFLICT ("memberId") DO UPDATE
  SET "level" = ${DRAINED} + 1, "drainedAt" = GREATEST(b."drainedAt", ${NOW})
  WHERE ${DRAINED} + 1 < $4::double precision
RETURNING "level"`;

const GIVE_BACK = `
UPDATE "PortalRateBudget" AS b
   SET "level" = GREATEST(0, ${DRAINED} - 1), "drainedAt" = GREATEST(b."drainedAt", ${NOW})
 WHERE b."memberId" = $1`;

export class PgRateBudget implements RateBudgetStore {
  constructor(private readonly db: SqlClient) {}

  async reserve(memberId: string, request: ReserveRequest): Promise<number | null> {
    const rows = await this.db.$queryRawUnsafe<{ level: number }[]>(
      RESERVE,
      memberId,
      request.drainPerSecond,
      request.floor,
      request.grantBelow,
    );
    return rows[0] ? Number(rows[0].level) : null;
  }

  async giveBack(memberId: string, drainPerSecond: number): Promise<void> {
    // $3 (the floor) is 0 here: DRAINED is shared with RESERVE.
    await this.db.$executeRawUnsafe(GIVE_BACK, memberId, drainPerSecond, 0);
  }
}

export interface SharedLeakyBucketOptions extends LeakyBucketOptions {
  memberId: string;
  store: RateBudgetStore;
  logger?: Logger;
}

/** A portal's bucket kept in the database: the same contract as LeakyBucket, across processes. */
export class SharedLeakyBucket implements RateBucket {
  readonly memberId: string;
  readonly capacity: number;
  readonly drainPerSecond: number;
  readonly limit: number;
  readonly maxInFlight: number;
  private readonly slots: Slots;
  private readonly store: RateBudgetStore;
  private readonly logger: Logger | undefined;
  /** Paces this process alone while the database cannot be asked. */
  private readonly fallback: LeakyBucket;
  /** A 503 was seen: the next reservation raises the shared level to X first (no extra round trip). */
  private full = false;
  /** The last reservation fell back to the local bucket (logged once per outage, not per request). */
  private alone = false;
  private readonly stats: LeakyBucketStats = {
    reserved: 0,
    delayed: 0,
    totalDelayMs: 0,
    serverRejections: 0,
  };

  constructor(options: SharedLeakyBucketOptions) {
    this.fallback = new LeakyBucket(options);
    this.memberId = options.memberId;
    this.capacity = options.capacity;
    this.drainPerSecond = options.drainPerSecond;
    this.maxInFlight = inFlightLimit(options.maxInFlight);
    this.limit = bucketLimit(options.capacity, this.maxInFlight, options.headroom);
    this.slots = new Slots(this.maxInFlight);
    this.store = options.store;
    this.logger = options.logger;
  }

  async acquire(signal?: AbortSignal, deadline?: Deadline): Promise<() => void> {
    await this.slots.acquire(signal);
    let granted: 'shared' | 'local' | null = null;
    try {
      const turn = await this.reserve(signal, deadline);
      granted = turn.in;
      if (deadline && turn.waitMs === null) {
        throw deadline.exceeded("waiting for the portal's rate limit (no turn before the deadline)");
      }
      const waitMs = turn.waitMs ?? 0;
      if (deadline && waitMs > 0 && waitMs >= deadline.remaining()) {
        throw deadline.exceeded(`waiting ${Math.round(waitMs)} ms for the portal's rate limit`);
      }
      await sleep(waitMs, signal);
    } catch (error) {
      // Never sent: the turn goes to whoever asks next (in any process).
      if (granted === 'shared') {
        this.store.giveBack(this.memberId, this.drainPerSecond).catch(() => {});
      }
      this.slots.release();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.slots.release();
    };
  }

  /** The request's turn: how long to wait (ms), or null when none comes before the deadline. */
  private async reserve(
    signal: AbortSignal | undefined,
    deadline: Deadline | undefined,
  ): Promise<{ in: 'shared' | 'local' | null; waitMs: number | null }> {
    const full = this.full;
    const grantBelow = deadline
      ? Math.max(this.limit + 1e-9, this.limit + (deadline.remaining() / 1000) * this.drainPerSecond)
      : Number.MAX_VALUE;
    let level: number | null;
    try {
      // Stop waiting when the caller gives up; a turn granted after that drains away in 1/Y s.
      level = await untilAborted(
        this.store.reserve(this.memberId, {
          drainPerSecond: this.drainPerSecond,
          floor: full ? this.capacity : 0,
          grantBelow,
        }),
        signal,
      );
    } catch (error) {
      if (signal?.aborted) throw error;
      // The database is unreachable: pace this process alone rather than fail the call.
      if (!this.alone) {
        this.logger?.warn(
          { memberId: this.memberId, err: error },
          'shared rate budget unavailable; pacing this process alone',
        );
      }
      this.alone = true;
      return { in: 'local', waitMs: this.fallback.reserve() };
    }
    if (this.alone) this.logger?.info({ memberId: this.memberId }, 'shared rate budget reachable again');
    this.alone = false;
    // Refused, the statement wrote nothing: the next reservation still carries the 503's floor.
    if (level === null) return { in: null, waitMs: null };
    if (full) this.full = false;
    this.stats.reserved += 1;
    const excess = level - this.limit;
    if (excess <= 0) return { in: 'shared', waitMs: 0 };
    const waitMs = (excess / this.drainPerSecond) * 1000;
    this.stats.delayed += 1;
    this.stats.totalDelayMs += waitMs;
    return { in: 'shared', waitMs };
  }

  markFull(): void {
    this.stats.serverRejections += 1;
    this.full = true;
    this.fallback.markFull();
  }

  getStats(): LeakyBucketStats {
    return { ...this.stats };
  }
}
