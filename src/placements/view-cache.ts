// Widget pages read the portal on every open, and a portal allows ~2 requests a second per
// app. A short-lived cache, keyed by portal, user and what is shown, lets a widget reopen
// without a request; any action on the portal through us drops that portal's entries.
// Per process: another replica may show data up to `ttlMs` old.
export class ViewCache {
  private readonly entries = new Map<string, { until: number; value: unknown }>();
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Bumped per portal on every action, so old keys simply stop matching. */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async get<T>(memberId: string, userId: number, what: string, load: () => Promise<T>): Promise<T> {
    const key = `${memberId}\0${this.generations.get(memberId) ?? 0}\0${userId}\0${what}`;
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value as T;
    // Single-flight: when an entry expires under load, one request reloads it, the rest wait for it.
    const pending = this.loading.get(key);
    if (pending) return pending as Promise<T>;
    const loading = load().finally(() => this.loading.delete(key));
    this.loading.set(key, loading);
    const value = await loading;
    this.entries.delete(key);
    this.entries.set(key, { until: this.now() + this.ttlMs, value });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return value;
  }

  /** Something changed on this portal: its cached views are stale. */
  invalidate(memberId: string): void {
    this.generations.set(memberId, (this.generations.get(memberId) ?? 0) + 1);
  }
}
