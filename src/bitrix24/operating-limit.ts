// Bitrix24 blocks a method once its summed execution time passes 480 s within 10 minutes.
// Responses report the running total (`time.operating`); past a threshold we space calls
// to that method out (the nearer the limit, the longer the gap) instead of getting blocked.
import { RateLimitError } from './errors.js';

export interface OperatingLimitOptions {
  /** The server's budget per method, in seconds (480). */
  limitSeconds?: number;
  /** Fraction of the budget from which calls get spaced out (0.8 → from 384 s). */
  slowdownFrom?: number;
  /** Gap between calls when the budget is all but spent, in ms. */
  maxDelayMs?: number;
  /** Seconds of budget kept in reserve: at this point the method waits for the reset instead. */
  reserveSeconds?: number;
  /** Longest wait for a reset before giving up with a RateLimitError. */
  maxWaitForResetMs?: number;
}

/** The `time` object of a REST answer (numbers in seconds). */
export interface ResponseTime {
  start?: number;
  finish?: number;
  duration?: number;
  processing?: number;
  operating?: number;
  operating_reset_at?: number;
}

interface MethodUsage {
  operatingSeconds: number;
  /** Local monotonic ms when the server's window resets (derived relative to the server's own clock). */
  resetAt: number;
  /** Local time the last call of this method was let through (or scheduled to be). */
  lastStartAt: number;
}

export interface OperatingLimitStats {
  slowedCalls: number;
  totalSlowdownMs: number;
  operating: Record<string, number>;
}

export class OperatingLimiter {
  private readonly limitSeconds: number;
  private readonly slowdownFrom: number;
  private readonly maxDelayMs: number;
  private readonly reserveSeconds: number;
  private readonly maxWaitForResetMs: number;
  private readonly usage = new Map<string, MethodUsage>();
  private slowedCalls = 0;
  private totalSlowdownMs = 0;

  constructor(
    options: OperatingLimitOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limitSeconds = options.limitSeconds ?? 480;
    this.slowdownFrom = options.slowdownFrom ?? 0.8;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.reserveSeconds = options.reserveSeconds ?? 5;
    this.maxWaitForResetMs = options.maxWaitForResetMs ?? 30_000;
  }

  /** Records what the server reported after a call of `method`. */
  record(methodName: string, time: ResponseTime | undefined): void {
    if (!time || typeof time.operating !== 'number') return;
    const method = methodName.toLowerCase(); // Bitrix24 method names are case-insensitive
    const now = this.now();
    // operating_reset_at is on the server's clock: measure it from the server's own `finish`.
    const serverNow = time.finish ?? time.start;
    const resetInMs =
      typeof time.operating_reset_at === 'number' && typeof serverNow === 'number'
        ? Math.max(0, (time.operating_reset_at - serverNow) * 1000)
        : 600_000;
    const previous = this.usage.get(method);
    this.usage.set(method, {
      operatingSeconds: time.operating,
      resetAt: now + resetInMs,
      lastStartAt: previous?.lastStartAt ?? now,
    });
  }

  /**
   * How long (ms) the next call of these methods should wait. Reserves the slot, so
   * concurrent callers of a slowed method are spaced out one after another.
   * Throws RateLimitError when the method is spent and the reset is too far away.
   */
  admit(methods: readonly string[]): number {
    let wait = 0;
    for (const method of new Set(methods.map((m) => m.toLowerCase())))
      wait = Math.max(wait, this.admitOne(method));
    if (wait > 0) {
      this.slowedCalls += 1;
      this.totalSlowdownMs += wait;
    }
    return wait;
  }

  private admitOne(method: string): number {
    const usage = this.usage.get(method);
    if (!usage) return 0;
    const now = this.now();
    if (now >= usage.resetAt) {
      this.usage.delete(method);
      return 0;
    }
    const fraction = usage.operatingSeconds / this.limitSeconds;
    if (fraction < this.slowdownFrom) {
      usage.lastStartAt = now;
      return 0;
    }
    if (usage.operatingSeconds >= this.limitSeconds - this.reserveSeconds) {
      const untilReset = usage.resetAt - now;
      if (untilReset > this.maxWaitForResetMs) {
        throw new RateLimitError({
          code: 'OPERATION_TIME_LIMIT',
          status: 0,
          description: `operating time of ${method} nearly spent (${usage.operatingSeconds.toFixed(0)} s of ${this.limitSeconds} s); not sending until the window resets`,
          method,
          retryAfterMs: Math.ceil(untilReset),
        });
      }
      return untilReset;
    }
    // Linear from 0 at the threshold to maxDelay at the reserve line.
    const span = this.limitSeconds - this.reserveSeconds - this.limitSeconds * this.slowdownFrom;
    const over = usage.operatingSeconds - this.limitSeconds * this.slowdownFrom;
    const gap = this.maxDelayMs * Math.min(1, over / Math.max(span, 1e-9));
    // Calls of this method start at least `gap` apart.
    const startAt = Math.max(now, usage.lastStartAt + gap);
    usage.lastStartAt = startAt;
    return startAt - now;
  }

  /** The server blocked the method: remember it as spent until the reset. */
  markBlocked(methodName: string): void {
    const method = methodName.toLowerCase();
    const usage = this.usage.get(method);
    const now = this.now();
    this.usage.set(method, {
      operatingSeconds: this.limitSeconds,
      resetAt: usage && usage.resetAt > now ? usage.resetAt : now + 60_000,
      lastStartAt: now,
    });
  }

  getStats(): OperatingLimitStats {
    const operating: Record<string, number> = {};
    for (const [method, usage] of this.usage) operating[method] = usage.operatingSeconds;
    return { slowedCalls: this.slowedCalls, totalSlowdownMs: this.totalSlowdownMs, operating };
  }
}
