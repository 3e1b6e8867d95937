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
 * Past 480 s the method is blocked on that portal for every caller, as Bitrix24 does.
 */
export class OperatingLimits {
  #entries = new Map<string, Entry[]>();
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

  #live(key: string): Entry[] {
    const since = this.clock.now() - OPERATING_WINDOW_SECONDS * 1000;
    const list = (this.#entries.get(key) ?? []).filter((e) => e.at > since);
    this.#entries.set(key, list);
    return list;
  }

  #sum(key: string): number {
    return this.#live(key).reduce((s, e) => s + e.seconds, 0);
  }

  /** True when any caller pushed this method past the limit on this portal. */
  blocked(memberId: string, method: string): boolean {
    const prefix = `${memberId}|${method.toLowerCase()}|`;
    for (const key of this.#entries.keys()) {
      if (key.startsWith(prefix) && this.#sum(key) > OPERATING_LIMIT_SECONDS) return true;
    }
    return false;
  }

  /** Records one execution and returns what `time.operating` / `time.operating_reset_at` report. */
  record(memberId: string, method: string, caller: string): { operating: number; resetAt: number } {
    const key = `${memberId}|${method.toLowerCase()}|${caller}`;
    const list = this.#live(key);
    list.push({ at: this.clock.now(), seconds: this.timeOf(method) });
    return this.peek(memberId, method, caller);
  }

  peek(memberId: string, method: string, caller: string): { operating: number; resetAt: number } {
    const key = `${memberId}|${method.toLowerCase()}|${caller}`;
    const list = this.#live(key);
    const oldest = list[0]?.at ?? this.clock.now();
    return {
      operating: Number(this.#sum(key).toFixed(6)),
      resetAt: Math.floor(oldest / 1000) + OPERATING_WINDOW_SECONDS,
    };
  }

  reset(): void {
    this.#entries.clear();
  }
}
