// One time limit per interactive request (install, widget open, widget action). REST retries,
// leaky-bucket pacing and operating-time waits all draw from it, so together they can never
// keep a user waiting longer than the deadline. The request's deadline travels with its async
// context (AsyncLocalStorage): every REST client used while handling the request finds it
// without each layer in between (installer, widget context, views) passing it along.
// Background work (rebind, check, keep-alive) runs outside any request and has none.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sleep } from './sleep.js';

/** The request ran out of time; `during` says what it was doing (for logs, not for users). */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
  readonly code = 'deadline_exceeded';
  constructor(
    readonly budgetMs: number,
    readonly during: string,
  ) {
    super(`the request's deadline of ${budgetMs} ms passed ${during}`);
  }
}

export function isDeadlineExceeded(error: unknown): error is DeadlineExceededError {
  return error instanceof DeadlineExceededError;
}

export class Deadline {
  #controller: AbortController | undefined;

  /** `at` is on the performance.now() clock. */
  constructor(
    readonly at: number,
    readonly budgetMs: number,
  ) {}

  /** A deadline `budgetMs` after `startedAt` (default: now). */
  static after(budgetMs: number, startedAt = performance.now()): Deadline {
    return new Deadline(startedAt + budgetMs, budgetMs);
  }

  remaining(): number {
    return Math.max(0, this.at - performance.now());
  }

  get expired(): boolean {
    return this.remaining() === 0;
  }

  /**
   * Aborts (with a DeadlineExceededError) when the deadline passes. Made on first use, so a
   * request that never calls the portal costs no timer.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const left = this.remaining();
      if (left === 0) controller.abort(this.exceeded('before the call'));
      else setTimeout(() => controller.abort(this.exceeded('waiting for the portal')), left).unref();
    }
    return this.#controller.signal;
  }

  exceeded(during: string): DeadlineExceededError {
    return new DeadlineExceededError(this.budgetMs, during);
  }
}

const storage = new AsyncLocalStorage<Deadline>();

/** Runs `fn` (and everything it starts) under `deadline`. */
export function runWithDeadline<T>(deadline: Deadline, fn: () => T): T {
  return storage.run(deadline, fn);
}

/** The deadline of the request being handled, if any. */
export function currentDeadline(): Deadline | undefined {
  return storage.getStore();
}

/**
 * Waits `ms` unless that wait would end past the deadline: then fails at once, since waiting
 * only to be cut off helps nobody.
 */
export async function waitWithin(
  ms: number,
  deadline: Deadline | undefined,
  signal: AbortSignal | undefined,
  during: string,
): Promise<void> {
  if (ms <= 0) {
    if (signal?.aborted) throw signal.reason;
    return;
  }
  if (deadline && ms >= deadline.remaining()) throw deadline.exceeded(during);
  await sleep(ms, signal);
}

/**
 * Stops waiting for `work` when `signal` aborts, without cancelling the work itself: a token
 * refresh under way must still finish and be stored, whoever stopped waiting for it.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
