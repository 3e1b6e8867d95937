// Requests counted per key in windows of a fixed length, each opened by its key's first request
// (the semantics @fastify/rate-limit's local store had). Synchronous and allocation-light: the
// plugin's promise chain per request was 9 % of a warm widget open (BENCHMARKS.md).
import { Address6 } from 'ip-address';

export interface Window {
  /** Requests counted in this window, this one included. */
  count: number;
  /** When the window closes (Date.now() clock). */
  resetAt: number;
}

export class RequestWindows {
  // Insertion order is opening order, and every window has the same length: the first entry
  // always closes first, so expired and overflowing entries leave from the front in O(1).
  private readonly windows = new Map<string, Window>();

  /** `maxKeys` bounds memory: past it, the oldest window is dropped (its key starts afresh). */
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  /** Counts one request of `key` and returns its window. */
  hit(key: string, now = Date.now()): Window {
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      // Closed windows are the map's front (see above), this key's included: dropped here, so a
      // renewed window is set anew at the back.
      this.dropClosed(now);
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window;
  }

  private dropClosed(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt > now && this.windows.size < this.maxKeys) return;
      this.windows.delete(key);
    }
  }
}

/**
 * Whom a request is counted against: an IPv4 address as it is, an IPv6 client by its /64 (one
 * subscriber's network; rotating within it buys nothing), an IPv4-mapped IPv6 address as IPv4.
 */
export function addressKey(ip: string): string {
  // A shortcut only: Address6 refuses an IPv4 address, and the catch below returns it as it is.
  // Stryker disable next-line ConditionalExpression: equivalent, as above
  if (!ip.includes(':')) return ip;
  try {
    const address = new Address6(ip);
    if (address.isMapped4()) return address.to4().correctForm();
    return new Address6(`${address.correctForm()}/64`).startAddress().correctForm();
  } catch {
    // Not an address (a proxy header's junk under TRUST_PROXY): counted as the text it is.
    return ip.toLowerCase();
  }
}
