// Every widget open looks up its installation, and through Prisma that lookup was the largest
// single cost of an open (BENCHMARKS.md). This keeps found installations for a short time.
// The store tells us about each of its writes (forget), so in one process a change is seen at
// once; a change made by another process (replica, CLI) is seen within `ttlMs`.

import { setBounded } from '../bounded-map.js';
import type { Installation, InstallationRecords } from './types.js';

export class RecentInstallations {
  private readonly entries = new Map<string, { until: number; installation: Installation }>();
  /** Single-flight: when an entry expires under load, one lookup runs and the others wait for it. */
  private readonly pending = new Map<string, Promise<Installation | null>>();
  /** Bumped by every write: a lookup that started before it must not store its (older) answer. */
  private generation = 0;

  constructor(
    private readonly store: Pick<InstallationRecords, 'find'>,
    private readonly ttlMs = 2_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async find(memberId: string): Promise<Installation | null> {
    const hit = this.entries.get(memberId);
    if (hit && hit.until > this.now()) return hit.installation;
    const pending = this.pending.get(memberId);
    if (pending) return pending;
    const lookup = this.lookup(memberId).finally(() => {
      if (this.pending.get(memberId) === lookup) this.pending.delete(memberId);
    });
    this.pending.set(memberId, lookup);
    return lookup;
  }

  private async lookup(memberId: string): Promise<Installation | null> {
    const generation = this.generation;
    const installation = await this.store.find(memberId);
    // Unknown portals are not kept: anyone can name one, and the cache stays bounded by real ones.
    if (installation && generation === this.generation) {
      setBounded(this.entries, memberId, { until: this.now() + this.ttlMs, installation }, this.maxEntries);
    } else {
      this.entries.delete(memberId);
    }
    return installation;
  }

  /** Something about some installation changed: nothing kept is trusted any longer. */
  forget(): void {
    this.generation++;
    this.entries.clear();
    // Lookups under way may have read the row before the write: later callers ask again.
    this.pending.clear();
  }
}
