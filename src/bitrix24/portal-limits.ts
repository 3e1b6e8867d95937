// One leaky bucket and one operating-time tracker per portal, shared by every client this
// process creates for that portal (installation and user clients alike): the server counts
// all of them against the same bucket. With a shared store (PostgreSQL), the bucket is also
// shared with every other process on the database (shared-budget.ts).
import type { Logger } from 'pino';
import { LeakyBucket, type LeakyBucketOptions, type RateBucket } from './leaky-bucket.js';
import { OperatingLimiter, type OperatingLimitOptions } from './operating-limit.js';
import { type RateBudgetStore, SharedLeakyBucket } from './shared-budget.js';

export interface PortalLimits {
  bucket: RateBucket;
  operating: OperatingLimiter;
}

export interface PortalLimitsOptions {
  /** X (default 50). */
  capacity?: number;
  /** Y per second (default 2). */
  drainPerSecond?: number;
  /** Unanswered requests at once per portal (default 8); that many slots stay free below X. */
  maxInFlight?: number;
  headroom?: number;
  operating?: OperatingLimitOptions;
  /** Keep each portal's bucket here, for every process on the database (else in this process). */
  shared?: RateBudgetStore;
  /** Told when the shared store cannot be reached (the process then paces alone). */
  logger?: Logger;
}

export class PortalLimitsRegistry {
  private readonly portals = new Map<string, PortalLimits>();

  constructor(private readonly options: PortalLimitsOptions = {}) {}

  /** The limits of the portal with this member_id (created on first use). */
  forPortal(memberId: string, overrides: Partial<LeakyBucketOptions> = {}): PortalLimits {
    let limits = this.portals.get(memberId);
    if (!limits) {
      const bucket: LeakyBucketOptions = {
        capacity: overrides.capacity ?? this.options.capacity ?? 50,
        drainPerSecond: overrides.drainPerSecond ?? this.options.drainPerSecond ?? 2,
        maxInFlight: overrides.maxInFlight ?? this.options.maxInFlight,
        headroom: overrides.headroom ?? this.options.headroom,
      };
      const { shared, logger } = this.options;
      limits = {
        bucket: shared
          ? new SharedLeakyBucket({ ...bucket, memberId, store: shared, logger })
          : new LeakyBucket(bucket),
        operating: new OperatingLimiter(this.options.operating),
      };
      this.portals.set(memberId, limits);
    }
    return limits;
  }

  /** Forgets a portal (e.g. after uninstall). */
  delete(memberId: string): void {
    this.portals.delete(memberId);
  }
}
