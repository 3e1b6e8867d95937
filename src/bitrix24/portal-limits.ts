// One leaky bucket and one operating-time tracker per portal, shared by every client this
// process creates for that portal (installation and user clients alike): the server counts
// all of them against the same bucket.
import { LeakyBucket, type LeakyBucketOptions } from './leaky-bucket.js';
import { OperatingLimiter, type OperatingLimitOptions } from './operating-limit.js';

export interface PortalLimits {
  bucket: LeakyBucket;
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
}

export class PortalLimitsRegistry {
  private readonly portals = new Map<string, PortalLimits>();

  constructor(private readonly options: PortalLimitsOptions = {}) {}

  /** The limits of the portal with this member_id (created on first use). */
  forPortal(memberId: string, overrides: Partial<LeakyBucketOptions> = {}): PortalLimits {
    let limits = this.portals.get(memberId);
    if (!limits) {
      limits = {
        bucket: new LeakyBucket({
          capacity: overrides.capacity ?? this.options.capacity ?? 50,
          drainPerSecond: overrides.drainPerSecond ?? this.options.drainPerSecond ?? 2,
          maxInFlight: overrides.maxInFlight ?? this.options.maxInFlight,
          headroom: overrides.headroom ?? this.options.headroom,
        }),
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
