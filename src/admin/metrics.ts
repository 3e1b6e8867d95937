// The app's Prometheus instruments. One registry per app instance: tests build many apps in
// one process, and a global registry would refuse the second set of metric names.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { INSTALLATION_STATUSES, type InstallationSummary } from '../installations/types.js';

/** Totals other components keep themselves; read when Prometheus scrapes. */
export interface ScrapeSources {
  installations: InstallationSummary[];
  /** Client-side leaky buckets of the portals this process talks to. */
  buckets: { delayed: number; totalDelayMs: number }[];
  /** TokenManager.stats. */
  tokens: { waitedForOtherProcess: number };
  /** TokenKeepAlive.stats (absent where no keep-alive runs). */
  keepAlive?: {
    refreshed: number;
    failed: number;
    skipped: number;
    lastRunCandidates: number;
    lastRunFinishedAt: number | null;
  };
}

/** Turns a total kept elsewhere into counter increments; a total that went down restarted from 0. */
class Mirror {
  private last = 0;
  constructor(private readonly counter: { inc(value: number): void }) {}
  update(total: number): void {
    const delta = total >= this.last ? total - this.last : total;
    if (delta > 0) this.counter.inc(delta);
    this.last = total;
  }
}

export class AppMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered by this app, by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request, by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: 'b24_rest_requests_total',
    help: 'HTTP requests sent to portal REST APIs, by method and outcome (ok, an error code, http_<status>, network_error)',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly batchCommands = new Counter({
    name: 'b24_rest_batch_commands_total',
    help: 'Commands inside batch requests, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly tokenRefreshes = new Counter({
    name: 'b24_token_refreshes_total',
    help: 'Refresh-token grants sent to the OAuth server, by outcome (ok or its error code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly tokenErrors = new Counter({
    name: 'b24_token_errors_total',
    help: 'Tokens refused: REST answers rejecting an access token, OAuth refusing a refresh token',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly responses503 = new Counter({
    name: 'b24_responses_503_total',
    help: 'HTTP 503 answers received from portals (rest) or the OAuth server (oauth)',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: 'b24_rate_limit_waits_total',
    help: "Requests the client held back to stay under a portal's rate limit",
    registers: [this.registry],
  });
  readonly rateLimitWaitSeconds = new Counter({
    name: 'b24_rate_limit_wait_seconds_total',
    help: 'Time requests were held back by the client-side rate limit',
    registers: [this.registry],
  });
  readonly refreshWaits = new Counter({
    name: 'b24_token_refresh_waits_total',
    help: "Times this process waited for another process's token refresh instead of refreshing",
    registers: [this.registry],
  });
  readonly installations = new Gauge({
    name: 'b24_installations',
    help: 'Installations in the database, by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly keepAliveRefreshes = new Counter({
    name: 'b24_keepalive_refreshes_total',
    help: 'Token keep-alive refreshes of idle portals by this process, by outcome (refreshed, failed, skipped: another process had it)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly keepAliveLastRun = new Gauge({
    name: 'b24_keepalive_last_run_timestamp_seconds',
    help: 'When the last token keep-alive run of this process finished (0: none yet)',
    registers: [this.registry],
  });
  readonly keepAliveCandidates = new Gauge({
    name: 'b24_keepalive_candidates',
    help: 'Installations the last keep-alive run found with a refresh token due for renewal',
    registers: [this.registry],
  });

  private readonly waits = new Mirror(this.rateLimitWaits);
  private readonly waitSeconds = new Mirror(this.rateLimitWaitSeconds);
  private readonly otherProcessWaits = new Mirror(this.refreshWaits);
  private readonly keepAliveOutcomes = {
    refreshed: new Mirror(this.keepAliveRefreshes.labels({ outcome: 'refreshed' })),
    failed: new Mirror(this.keepAliveRefreshes.labels({ outcome: 'failed' })),
    skipped: new Mirror(this.keepAliveRefreshes.labels({ outcome: 'skipped' })),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  /** Brings the mirrored totals and gauges up to date; call before rendering a scrape. */
  catchUp(sources: ScrapeSources): void {
    for (const status of INSTALLATION_STATUSES) {
      this.installations.set({ status }, sources.installations.filter((i) => i.status === status).length);
    }
    this.waits.update(sources.buckets.reduce((sum, b) => sum + b.delayed, 0));
    this.waitSeconds.update(sources.buckets.reduce((sum, b) => sum + b.totalDelayMs, 0) / 1000);
    this.otherProcessWaits.update(sources.tokens.waitedForOtherProcess);
    const keepAlive = sources.keepAlive;
    if (keepAlive) {
      for (const outcome of ['refreshed', 'failed', 'skipped'] as const)
        this.keepAliveOutcomes[outcome].update(keepAlive[outcome]);
      this.keepAliveLastRun.set((keepAlive.lastRunFinishedAt ?? 0) / 1000);
      this.keepAliveCandidates.set(keepAlive.lastRunCandidates);
    }
  }
}
