/** Fault injection for REST and OAuth answers: latency, 500/503 answers, dropped connections. */
export interface FaultRule {
  /** Added delay before answering, in ms. */
  latencyMs?: number;
  /** Share (0..1) of requests answered with errorStatus. */
  errorRate?: number;
  errorStatus?: 500 | 503;
  /** Share (0..1) of requests whose socket is destroyed without an answer. */
  dropRate?: number;
}

export interface FaultOptions extends FaultRule {
  /** Per REST method (case-insensitive) rules; their fields override the global ones. */
  methods?: Record<string, FaultRule>;
  /** Rule for /oauth/token/ (the global rule does not apply to OAuth). */
  oauth?: FaultRule;
  /** Random source, replaceable for deterministic tests. */
  random?: () => number;
}

export type FaultAction = { kind: 'none' } | { kind: 'drop' } | { kind: 'error'; status: 500 | 503 };

interface OneShot {
  remaining: number;
  target?: string;
  action: FaultAction;
}

/** Target names: a REST method name, or 'oauth' for the token endpoint. */
export class Faults {
  #opts: FaultOptions = {};
  #oneShots: OneShot[] = [];

  constructor(opts: FaultOptions = {}) {
    this.set(opts);
  }

  /** Replaces the whole configuration. */
  set(opts: FaultOptions): void {
    const methods: Record<string, FaultRule> = {};
    for (const [k, v] of Object.entries(opts.methods ?? {})) methods[k.toLowerCase()] = v;
    this.#opts = { ...opts, methods };
  }

  /** Merges into the current configuration. */
  update(opts: FaultOptions): void {
    this.set({
      ...this.#opts,
      ...opts,
      methods: { ...this.#opts.methods, ...opts.methods },
    });
  }

  get config(): Readonly<FaultOptions> {
    return this.#opts;
  }

  reset(): void {
    this.#opts = {};
    this.#oneShots = [];
  }

  /** The next `count` requests (to `target`, if given) get an error answer. */
  failNext(count = 1, opts: { status?: 500 | 503; target?: string } = {}): void {
    this.#oneShots.push({
      remaining: count,
      target: opts.target?.toLowerCase(),
      action: { kind: 'error', status: opts.status ?? 500 },
    });
  }

  /** The next `count` requests (to `target`, if given) have their connection destroyed. */
  dropNext(count = 1, opts: { target?: string } = {}): void {
    this.#oneShots.push({ remaining: count, target: opts.target?.toLowerCase(), action: { kind: 'drop' } });
  }

  #rule(target: string): FaultRule {
    const t = target.toLowerCase();
    if (t === 'oauth') return this.#opts.oauth ?? {};
    const { methods, oauth: _o, random: _r, ...global } = this.#opts;
    return { ...global, ...methods?.[t] };
  }

  latencyFor(target: string): number {
    return this.#rule(target).latencyMs ?? 0;
  }

  /** Decides (and consumes any one-shot fault) for one request. */
  decide(target: string): FaultAction {
    const t = target.toLowerCase();
    const shot = this.#oneShots.find((s) => s.remaining > 0 && (s.target === undefined || s.target === t));
    if (shot) {
      shot.remaining--;
      this.#oneShots = this.#oneShots.filter((s) => s.remaining > 0);
      return shot.action;
    }
    const rule = this.#rule(t);
    const random = this.#opts.random ?? Math.random;
    if (rule.dropRate && random() < rule.dropRate) return { kind: 'drop' };
    if (rule.errorRate && random() < rule.errorRate)
      return { kind: 'error', status: rule.errorStatus ?? 503 };
    return { kind: 'none' };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
