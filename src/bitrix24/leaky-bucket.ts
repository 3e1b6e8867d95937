// Client-side mirror of Bitrix24's per-portal leaky bucket: each request adds 1, the bucket
// drains Y per second, and the server refuses requests past X.
//
// Requests reserve send slots in order (virtual scheduling), so a burst is spread out instead
// of hitting 503s. The server counts a request when it *arrives*, not when we send it: requests
// sent apart can arrive together (connection setup, queues). At most `maxInFlight` requests are
// unanswered at once, so at most that many can be "late"; keeping that many slots free below X
// makes the server's level stay under X whatever the latency.
import type { Deadline } from './deadline.js';
import { sleep } from './sleep.js';

export interface LeakyBucketOptions {
  /** X: how many requests the server's bucket holds (50 on ordinary plans, 250 on Enterprise). */
  capacity: number;
  /** Y: how many requests per second drain out (2 ordinary, 5 Enterprise). */
  drainPerSecond: number;
  /** Unanswered requests allowed at once for this portal (default 8). */
  maxInFlight?: number;
  /** Extra slots kept free for rounding and clock differences (default 1). */
  headroom?: number;
}

export interface LeakyBucketStats {
  reserved: number;
  delayed: number;
  totalDelayMs: number;
  serverRejections: number;
}

/**
 * What the REST client needs of a portal's bucket: this process's in-memory LeakyBucket, or
 * the one every process shares through PostgreSQL (shared-budget.ts).
 */
export interface RateBucket {
  /** Unanswered requests allowed at once (in this process). */
  readonly maxInFlight: number;
  /**
   * Waits for an in-flight slot and the request's turn; call the returned function when the
   * answer (or a failure) has arrived.
   */
  acquire(signal?: AbortSignal, deadline?: Deadline): Promise<() => void>;
  /** The server answered QUERY_LIMIT_EXCEEDED: treat the bucket as full. */
  markFull(): void;
  getStats(): LeakyBucketStats;
}

/** The level the model may reach before requests wait: X less the slots kept for late arrivals. */
export function bucketLimit(capacity: number, maxInFlight: number, headroom = 1): number {
  return Math.max(1, capacity - maxInFlight - headroom);
}

/** Unanswered requests allowed at once per portal and process (default 8). */
export const inFlightLimit = (maxInFlight: number | undefined): number =>
  Math.max(1, Math.floor(maxInFlight ?? 8));

/** A FIFO counting semaphore. */
export class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.free > 0 && this.waiters.length === 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

export class LeakyBucket implements RateBucket {
  readonly capacity: number;
  readonly drainPerSecond: number;
  /** The level we let our model reach before making requests wait. */
  readonly limit: number;
  /** Unanswered requests allowed at once. */
  readonly maxInFlight: number;
  private readonly slots: Slots;
  /** Modelled level; above `limit` it counts reservations still waiting for their slot. */
  private level = 0;
  private updatedAt: number;
  private readonly stats: LeakyBucketStats = {
    reserved: 0,
    delayed: 0,
    totalDelayMs: 0,
    serverRejections: 0,
  };

  constructor(
    options: LeakyBucketOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.capacity >= 1) || !(options.drainPerSecond > 0)) {
      throw new RangeError('leaky bucket needs capacity >= 1 and drainPerSecond > 0');
    }
    this.capacity = options.capacity;
    this.drainPerSecond = options.drainPerSecond;
    this.maxInFlight = inFlightLimit(options.maxInFlight);
    this.slots = new Slots(this.maxInFlight);
    this.limit = bucketLimit(options.capacity, this.maxInFlight, options.headroom);
    this.updatedAt = this.now();
  }

  private drain(): void {
    const now = this.now();
    this.level = Math.max(0, this.level - ((now - this.updatedAt) / 1000) * this.drainPerSecond);
    this.updatedAt = now;
  }

  /**
   * Waits for an in-flight slot and then for the request's turn in the bucket. Call the
   * returned function when the answer (or a failure) has arrived. With a deadline, a turn
   * that would come after it is given back at once (DeadlineExceededError) instead of waited for.
   */
  async acquire(signal?: AbortSignal, deadline?: Deadline): Promise<() => void> {
    await this.slots.acquire(signal);
    const wait = this.reserve();
    try {
      if (deadline && wait > 0 && wait >= deadline.remaining()) {
        throw deadline.exceeded(`waiting ${Math.round(wait)} ms for the portal's rate limit`);
      }
      await sleep(wait, signal);
    } catch (error) {
      // Never sent: the turn goes to whoever asks next.
      this.unreserve();
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

  /** Reserves the next send slot; returns how long to wait (ms) before sending. */
  reserve(): number {
    this.drain();
    this.level += 1;
    this.stats.reserved += 1;
    const excess = this.level - this.limit;
    if (excess <= 0) return 0;
    const wait = (excess / this.drainPerSecond) * 1000;
    this.stats.delayed += 1;
    this.stats.totalDelayMs += wait;
    return wait;
  }

  /** Gives back a reservation whose request was never sent. */
  private unreserve(): void {
    this.drain();
    this.level = Math.max(0, this.level - 1);
  }

  /**
   * The server answered QUERY_LIMIT_EXCEEDED: someone else (another process, another app on
   * the same server) fills the same bucket. Assume it is full so queued requests wait.
   */
  markFull(): void {
    this.drain();
    this.stats.serverRejections += 1;
    this.level = Math.max(this.level, this.capacity);
  }

  /** Current modelled level (including waiting reservations). */
  currentLevel(): number {
    this.drain();
    return this.level;
  }

  getStats(): LeakyBucketStats {
    return { ...this.stats };
  }
}
