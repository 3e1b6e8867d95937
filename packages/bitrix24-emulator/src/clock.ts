/** Time source for token expiry, the leaky bucket and operating limits, so tests can move time instead of waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Moves the clock forward (negative values move it back). */
  advance(seconds: number): void;
}

export interface EmulatorClockOptions {
  /** A frozen clock only moves through advance(). */
  frozen?: boolean;
  /** Start time in ms (frozen clocks only); defaults to Date.now(). */
  start?: number;
}

export class EmulatorClock implements Clock {
  #offset = 0;
  #frozenAt: number | null;

  constructor(options: EmulatorClockOptions = {}) {
    this.#frozenAt = options.frozen ? (options.start ?? Date.now()) : null;
  }

  now(): number {
    return this.#frozenAt ?? Date.now() + this.#offset;
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  advance(seconds: number): void {
    if (this.#frozenAt !== null) this.#frozenAt += seconds * 1000;
    else this.#offset += seconds * 1000;
  }

  freeze(): void {
    this.#frozenAt ??= this.now();
  }

  unfreeze(): void {
    if (this.#frozenAt === null) return;
    this.#offset = this.#frozenAt - Date.now();
    this.#frozenAt = null;
  }

  get frozen(): boolean {
    return this.#frozenAt !== null;
  }
}

export const nowSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
