// Idle portals keep their tokens (issue #13.5): a refresh token unused for its lifetime
// (Bitrix24: 180 days, /work/shared/bitrix24-protocol.md) dies, and only the portal's
// administrator can then bring the app back. This job refreshes, ahead of that, every active
// installation whose refresh token was received more than (lifetime − keep-alive) days ago.
// Each refresh runs under the installation's database lease like any other, so replicas
// running the job at once never both refresh one portal; portals are done one at a time with
// a pause between them, so the OAuth server sees a trickle, not a burst.
import type { Logger } from 'pino';
import { isBitrix24Error } from '../bitrix24/errors.js';
import type { TokenManager } from './tokens.js';
import type { InstallationRecords, InstallationSummary } from './types.js';

const DAY_MS = 24 * 3600 * 1000;

export interface KeepAliveOptions {
  store: Pick<InstallationRecords, 'summaries'>;
  tokens: Pick<TokenManager, 'renewIfIssuedBefore'>;
  /** How long a refresh token lives unused (B24_REFRESH_TOKEN_LIFETIME_DAYS). */
  lifetimeDays: number;
  /** Refresh this many days before the lifetime ends (B24_KEEPALIVE_DAYS). */
  keepAliveDays: number;
  /** Between the end of one run and the start of the next. */
  intervalMs: number;
  /** Before the first run after start(), so a (re)starting fleet does not run at once (default 60 s). */
  firstRunDelayMs?: number;
  /** Pause after each refresh (default 1 s). */
  paceMs?: number;
  clock?: { now(): number };
  logger?: Logger;
}

export interface KeepAliveStats {
  runs: number;
  /** Refreshes this process made for the keep-alive. */
  refreshed: number;
  /** Refreshes that failed (the token manager marks terminal answers; others are tried next run). */
  failed: number;
  /** Candidates another process was refreshing, or had refreshed, when we came to them. */
  skipped: number;
  /** Candidates found by the last run. */
  lastRunCandidates: number;
  lastRunStartedAt: number | null;
  lastRunFinishedAt: number | null;
}

export interface KeepAliveRun {
  candidates: number;
  refreshed: number;
  failed: number;
  skipped: number;
}

export class TokenKeepAlive {
  readonly stats: KeepAliveStats = {
    runs: 0,
    refreshed: 0,
    failed: 0,
    skipped: 0,
    lastRunCandidates: 0,
    lastRunStartedAt: null,
    lastRunFinishedAt: null,
  };
  private readonly clock: { now(): number };
  private readonly paceMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopping = new AbortController();

  constructor(private readonly options: KeepAliveOptions) {
    if (!(options.keepAliveDays > 0 && options.keepAliveDays < options.lifetimeDays)) {
      throw new RangeError('keep-alive days must be more than 0 and less than the refresh-token lifetime');
    }
    this.clock = options.clock ?? { now: () => Date.now() };
    this.paceMs = options.paceMs ?? 1_000;
  }

  /** Refresh tokens received before this are refreshed by the next run. */
  cutoff(): Date {
    const { lifetimeDays, keepAliveDays } = this.options;
    return new Date(this.clock.now() - (lifetimeDays - keepAliveDays) * DAY_MS);
  }

  /** Runs every intervalMs (timers do not keep the process alive) until stop(). */
  start(): void {
    if (this.timer || this.stopping.signal.aborted) return;
    this.schedule(this.options.firstRunDelayMs ?? 60_000);
  }

  /** No new run; a run in progress ends after the portal it is refreshing (that refresh is stored). */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runOnce()
        .catch((error: unknown) => this.options.logger?.error({ err: error }, 'token keep-alive run failed'))
        .finally(() => {
          if (!this.stopping.signal.aborted) this.schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over the installations due for a keep-alive refresh, oldest refresh token first. */
  async runOnce(): Promise<KeepAliveRun> {
    if (this.running) await this.running.catch(() => {});
    const run = this.pass();
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = null;
    }
  }

  private async pass(): Promise<KeepAliveRun> {
    const { logger } = this.options;
    this.stats.runs += 1;
    this.stats.lastRunStartedAt = this.clock.now();
    const cutoff = this.cutoff();
    const due = dueForKeepAlive(await this.options.store.summaries(), cutoff);
    this.stats.lastRunCandidates = due.length;
    const run: KeepAliveRun = { candidates: due.length, refreshed: 0, failed: 0, skipped: 0 };
    for (const installation of due) {
      if (this.stopping.signal.aborted) break;
      try {
        const outcome = await this.options.tokens.renewIfIssuedBefore(installation.id, cutoff);
        if (outcome !== 'refreshed') {
          run.skipped += 1;
          continue;
        }
        run.refreshed += 1;
        logger?.info({ installationId: installation.id }, 'token keep-alive: refresh token renewed');
      } catch (error) {
        run.failed += 1;
        logger?.warn(
          { installationId: installation.id, code: isBitrix24Error(error) ? error.code : undefined },
          'token keep-alive: refresh failed',
        );
      }
      await pause(this.paceMs, this.stopping.signal);
    }
    this.stats.refreshed += run.refreshed;
    this.stats.failed += run.failed;
    this.stats.skipped += run.skipped;
    this.stats.lastRunFinishedAt = this.clock.now();
    if (run.candidates) logger?.info(run, 'token keep-alive run finished');
    return run;
  }
}

/** When the stored refresh token was received, as far as the summary tells (conservatively early). */
export function refreshTokenReceivedAt(summary: InstallationSummary): Date | null {
  return summary.tokenRefreshedAt ?? summary.installedAt;
}

/** Active installations whose refresh token was received before `cutoff` (or at an unknown time). */
export function dueForKeepAlive(summaries: InstallationSummary[], cutoff: Date): InstallationSummary[] {
  const received = (s: InstallationSummary) => refreshTokenReceivedAt(s)?.getTime() ?? 0;
  return summaries
    .filter((s) => s.status === 'active' && s.tokenExpiresAt !== null && received(s) < cutoff.getTime())
    .sort((a, b) => received(a) - received(b));
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
