import type { Clock } from './clock.js';

export const OPERATING_WINDOW_SECONDS = 600;
export const OPERATING_LIMIT_SECONDS = 480;
export const DEFAULT_METHOD_TIME = 0.01;

interface Entry {
  at: number;
  seconds: number;
}

/**
 * Simulated execution time per portal, method and app within the last 10 minutes.
 * Past 480 s the method is blocked (429 OPERATION_TIME_LIMIT): limits.md, _includes/system-errors.md.
 */
/**
 * One method's executions in time order, with a running total: expired ones are dropped from
 * the front, so recording a call costs the same at the 50,000th call as at the first.
 */
interface Window {
  entries: Entry[];
  head: number;
  sum: number;
}

export class OperatingLimits {
  /** By `memberId|method`, then by caller: a portal's check never walks other portals. */
  #windows = new Map<string, Map<string, Window>>();
  readonly methodTimes = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    methodTimes: Record<string, number> = {},
    public defaultTime = DEFAULT_METHOD_TIME,
  ) {
    for (const [m, s] of Object.entries(methodTimes)) this.methodTimes.set(m.toLowerCase(), s);
  }

  timeOf(method: string): number {
    return this.methodTimes.get(method.toLowerCase()) ?? this.defaultTime;
  }

  #live(methodKey: string, caller: string): Window {
    const since = this.clock.now() - OPERATING_WINDOW_SECONDS * 1000;
    let callers = this.#windows.get(methodKey);
    if (!callers) {
      callers = new Map();
      this.#windows.set(methodKey, callers);
    }
    let w = callers.get(caller);
    if (!w) {
      w = { entries: [], head: 0, sum: 0 };
      callers.set(caller, w);
    }
    return this.#expire(w, since);
  }

  #expire(w: Window, since: number): Window {
    while (w.head < w.entries.length && w.entries[w.head]!.at <= since) {
      w.sum -= w.entries[w.head]!.seconds;
      w.head++;
    }
    // No drift from many subtractions: an empty window totals exactly zero.
    if (w.head === w.entries.length) w.sum = 0;
    if (w.head > 1024 && w.head * 2 > w.entries.length) {
      w.entries = w.entries.slice(w.head);
      w.head = 0;
    }
    return w;
  }

  /** True when any caller pushed this method past the limit on this portal. */
  blocked(memberId: string, method: string): boolean {
    const callers = this.#windows.get(`${memberId}|${method.toLowerCase()}`);
    if (!callers) return false;
    const since = this.clock.now() - OPERATING_WINDOW_SECONDS * 1000;
    for (const w of callers.values()) {
      if (this.#expire(w, since).sum > OPERATING_LIMIT_SECONDS) return true;
    }
    return false;
  }

  record(memberId: string, method: string, caller: string): { operating: number; resetAt: number } {
    const w = this.#live(`${memberId}|${method.toLowerCase()}`, caller);
    const seconds = this.timeOf(method);
    w.entries.push({ at: this.clock.now(), seconds });
    w.sum += seconds;
    return this.peek(memberId, method, caller);
  }

  peek(memberId: string, method: string, caller: string): { operating: number; resetAt: number } {
    const w = this.#live(`${memberId}|${method.toLowerCase()}`, caller);
    const oldest = w.entries[w.head]?.at ?? this.clock.now();
    return {
      operating: Number(w.sum.toFixed(6)),
      resetAt: Math.floor(oldest / 1000) + OPERATING_WINDOW_SECONDS,
    };
  }

  reset(): void {
    this.#windows.clear();
  }
}
