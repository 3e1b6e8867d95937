// Widget pages read the portal on every open, and a portal allows ~2 requests a second per
// app. A short-lived cache, keyed by portal, user and what is shown, lets a widget reopen
// without a request; any action on the portal through us drops that portal's entries.
// Per process: another replica may show data up to `ttlMs` old.
//
// Stale-while-revalidate: for `staleMs` after an entry's TTL, an open gets the entry at once
// while one reload runs behind it. Without that, every open of a busy widget waits for the
// portal each time its entry expires (the widget benchmark's p99).
import { setBounded } from '../bounded-map.js';

export interface ViewCacheOptions {
  ttlMs?: number;
  /** How long past its TTL an entry may still be shown while it reloads. */
  staleMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  freshUntil: number;
  staleUntil: number;
  value: unknown;
}

export class ViewCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<unknown>>();
  /** Bumped per portal on every action, so old keys simply stop matching. */
  private readonly generations = new Map<string, number>();
  private lastGeneration = 0;
  private readonly ttlMs: number;
  private readonly staleMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ViewCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.staleMs = options.staleMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  private keyOf(memberId: string, userId: number, what: string): string {
    return `${memberId}\0${this.generations.get(memberId) ?? 0}\0${userId}\0${what}`;
  }

  /** Keeps a view loaded elsewhere (a cold open loads it with the verification of its user). */
  put<T>(memberId: string, userId: number, what: string, value: T): T {
    this.store(this.keyOf(memberId, userId, what), value);
    return value;
  }

  async get<T>(memberId: string, userId: number, what: string, load: () => Promise<T>): Promise<T> {
    const key = this.keyOf(memberId, userId, what);
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.freshUntil > now) return hit.value as T;
    if (hit && hit.staleUntil > now) {
      // A failed background reload keeps the entry; once it is too old, an open waits again
      // and then sees the error.
      if (!this.loading.has(key)) this.reload(key, load).catch(() => {});
      return hit.value as T;
    }
    return (this.loading.get(key) as Promise<T> | undefined) ?? this.reload(key, load);
  }

  /** Single-flight: one load per key at a time; whoever asks meanwhile shares it. */
  private reload<T>(key: string, load: () => Promise<T>): Promise<T> {
    const loading = load().then((value) => {
      this.store(key, value);
      return value;
    });
    const tracked = loading.finally(() => this.loading.delete(key));
    this.loading.set(key, tracked);
    return tracked;
  }

  private store(key: string, value: unknown): void {
    const now = this.now();
    const entry = { freshUntil: now + this.ttlMs, staleUntil: now + this.ttlMs + this.staleMs, value };
    setBounded(this.entries, key, entry, this.maxEntries);
  }

  /** Something changed on this portal: its cached views are stale. */
  invalidate(memberId: string): void {
    // One counter for all portals, so a forgotten generation can never come back and match.
    if (this.generations.size >= this.maxEntries) {
      this.generations.clear();
      this.entries.clear();
    }
    this.generations.set(memberId, ++this.lastGeneration);
  }
}
