import type { Clock } from './clock.js';

export interface BucketLimits {
  /** X: requests allowed in a burst before 503. */
  bucketSize: number;
  /** Y: how many requests drain from the bucket per second. */
  drainPerSecond: number;
}

interface Bucket {
  level: number;
  updatedAt: number;
}

/** Bitrix24's per-portal leaky bucket: each request adds 1, Y drain per second, past X → 503 QUERY_LIMIT_EXCEEDED (limits.md). */
export class LeakyBuckets {
  #buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    public limits: BucketLimits,
  ) {}

  #drained(key: string): Bucket {
    const now = this.clock.now();
    const b = this.#buckets.get(key) ?? { level: 0, updatedAt: now };
    const elapsed = Math.max(0, now - b.updatedAt) / 1000;
    b.level = Math.max(0, b.level - elapsed * this.limits.drainPerSecond);
    b.updatedAt = now;
    this.#buckets.set(key, b);
    return b;
  }

  /** Adds one request; false when it must be refused. A refused request does not fill the bucket. */
  take(key: string): boolean {
    const b = this.#drained(key);
    if (b.level + 1 > this.limits.bucketSize) return false;
    b.level += 1;
    return true;
  }

  level(key: string): number {
    return this.#drained(key).level;
  }

  reset(key?: string): void {
    if (key === undefined) this.#buckets.clear();
    else this.#buckets.delete(key);
  }
}
