// The one owner of an installation's OAuth lifecycle: tokens come from the store, are
// refreshed shortly before expiry or when the portal rejects them, and are written back with
// compare-and-set. A refresh token is single-use, so exactly one refresh may run per
// installation: within this process by a shared promise, across processes by the store's
// refresh lease. Losers wait for the winner's tokens instead of spending the old refresh token.
import type { Logger } from 'pino';
import type { AccessTokenSource } from '../bitrix24/access-token.js';
import { type Bitrix24Error, ReinstallRequiredError, TransientError } from '../bitrix24/errors.js';
import { sleep } from '../bitrix24/sleep.js';
import { type OAuthClientConfig, requestRefreshGrant } from './token-oauth-client.js';
import type { InstallationStore, StoredTokens } from './types.js';

export type { OAuthClientConfig };

export interface TokenClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface TokenManagerOptions {
  store: InstallationStore;
  oauth: OAuthClientConfig;
  /** Unique per process (e.g. `${hostname}:${pid}:${random}`): names the refresh lease holder. */
  owner: string;
  clock?: TokenClock;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Refresh this long before the recorded expiry (default 60 s). */
  refreshSkewMs?: number;
  /** Timeout of the OAuth request (default 10 s). */
  oauthTimeoutMs?: number;
  /** How long a won lease is held: longer than the OAuth request can take (default timeout + 10 s). */
  leaseMs?: number;
  /** How long to wait for another process's refresh before giving up (default lease + 5 s). */
  waitTimeoutMs?: number;
  pollMinMs?: number;
  pollMaxMs?: number;
}

export interface TokenManagerStats {
  /** Refresh requests this process sent to the OAuth server. */
  refreshRequests: number;
  /** Times this process waited for another process's refresh. */
  waitedForOtherProcess: number;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
  version: number;
}

const REINSTALL_STATUSES = new Set(['needs_reinstall', 'uninstalled']);

export class TokenManager {
  readonly stats: TokenManagerStats = { refreshRequests: 0, waitedForOtherProcess: 0 };
  private readonly store: InstallationStore;
  private readonly oauth: OAuthClientConfig;
  private readonly owner: string;
  private readonly clock: TokenClock;
  private readonly logger: Logger | undefined;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly skewMs: number;
  private readonly oauthTimeoutMs: number;
  private readonly leaseMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private readonly cache = new Map<number, CachedToken>();
  private readonly inflight = new Map<number, Promise<string>>();
  /** Installations whose refresh token was refused, at the token version that failed. */
  private readonly dead = new Map<number, number>();

  constructor(options: TokenManagerOptions) {
    this.store = options.store;
    this.oauth = options.oauth;
    this.owner = options.owner;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.logger = options.logger;
    this.fetchImpl = options.fetch;
    this.skewMs = options.refreshSkewMs ?? 60_000;
    this.oauthTimeoutMs = options.oauthTimeoutMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? this.oauthTimeoutMs + 10_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? this.leaseMs + 5_000;
    this.pollMinMs = options.pollMinMs ?? 20;
    this.pollMaxMs = options.pollMaxMs ?? 250;
  }

  /** A token valid for at least the skew, refreshing first if needed. */
  async getAccessToken(installationId: number): Promise<string> {
    const cached = this.cache.get(installationId);
    if (cached && this.isFresh(cached.expiresAt)) return cached.accessToken;
    return this.obtainShared(installationId, null);
  }

  /**
   * The portal rejected `rejected` (expired, or replaced by another process's refresh).
   * Returns a different valid token: the one already stored, or a refreshed one.
   */
  async renewAccessToken(installationId: number, rejected: string): Promise<string> {
    const cached = this.cache.get(installationId);
    if (cached && cached.accessToken !== rejected && this.isFresh(cached.expiresAt))
      return cached.accessToken;
    return this.obtainShared(installationId, rejected);
  }

  /** The token source a REST client of this installation uses. */
  sourceFor(installationId: number): AccessTokenSource {
    return {
      get: () => this.getAccessToken(installationId),
      renew: (rejected: string, _error: Bitrix24Error) => this.renewAccessToken(installationId, rejected),
    };
  }

  /** Drops what this process remembers (after a reinstall or uninstall). */
  forget(installationId: number): void {
    this.cache.delete(installationId);
    this.dead.delete(installationId);
  }

  private isFresh(expiresAt: number): boolean {
    return expiresAt - this.skewMs > this.clock.now();
  }

  /**
   * Settles when every refresh in flight has finished (and been stored). Shutdown waits on
   * this: a spent refresh token whose successor is not stored would lock the portal out.
   */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  /** Single-flight within the process: concurrent callers share one lookup/refresh. */
  private async obtainShared(installationId: number, rejected: string | null): Promise<string> {
    // A joined flight may have started before `rejected` was rejected; then go again.
    for (let round = 0; round < 3; round++) {
      let flight = this.inflight.get(installationId);
      if (!flight) {
        flight = this.obtain(installationId, rejected).finally(() => this.inflight.delete(installationId));
        this.inflight.set(installationId, flight);
      }
      const token = await flight;
      if (token !== rejected) return token;
    }
    throw new TransientError({
      code: 'TOKEN_UNAVAILABLE',
      status: 0,
      description: 'no valid token after repeated attempts',
      method: 'oauth/token',
    });
  }

  /** Reads the store; refreshes under the lease or waits for the process holding it. */
  private async obtain(installationId: number, rejected: string | null): Promise<string> {
    const deadline = Date.now() + this.waitTimeoutMs;
    let delay = this.pollMinMs;
    let waited = false;
    for (;;) {
      const stored = await this.store.getTokens(installationId);
      if (!stored)
        throw this.reinstallError(installationId, 'NO_TOKENS', 'the installation has no stored tokens');
      if (stored.accessToken !== rejected && this.isFresh(stored.expiresAt.getTime())) {
        return this.remember(installationId, stored);
      }
      if (this.dead.get(installationId) === stored.version) {
        throw this.reinstallError(
          installationId,
          'invalid_grant',
          'refresh token was refused earlier; reinstall needed',
        );
      }
      const installation = await this.store.findById(installationId);
      if (!installation)
        throw this.reinstallError(installationId, 'NO_INSTALLATION', 'installation not found');
      if (REINSTALL_STATUSES.has(installation.status)) {
        this.dead.set(installationId, stored.version);
        throw this.reinstallError(
          installationId,
          'invalid_grant',
          `installation is ${installation.status}${installation.lastError ? `: ${installation.lastError}` : ''}`,
        );
      }
      // Lease times are compared by the database against wall-clock time, not the injected clock.
      const until = new Date(Date.now() + this.leaseMs);
      if (await this.store.acquireRefreshLease(installationId, stored.version, this.owner, until)) {
        return this.refreshUnderLease(installationId, installation.memberId, stored);
      }
      if (!waited) {
        waited = true;
        this.stats.waitedForOtherProcess += 1;
      }
      if (Date.now() >= deadline) {
        throw new TransientError({
          code: 'TOKEN_REFRESH_WAIT_TIMEOUT',
          status: 0,
          description: 'another process holds the refresh lease and did not finish in time',
          method: 'oauth/token',
        });
      }
      await sleep(delay);
      delay = Math.min(this.pollMaxMs, delay * 2);
    }
  }

  private async refreshUnderLease(
    installationId: number,
    memberId: string,
    stored: StoredTokens,
  ): Promise<string> {
    this.stats.refreshRequests += 1;
    let grant: Awaited<ReturnType<typeof requestRefreshGrant>>;
    try {
      grant = await requestRefreshGrant(this.oauth, stored.refreshToken, {
        fetch: this.fetchImpl,
        timeoutMs: this.oauthTimeoutMs,
        now: this.clock.now(),
      });
    } catch (error) {
      if (error instanceof ReinstallRequiredError) {
        await this.markNeedsReinstall(installationId, stored.version, error);
      } else {
        // Let the next caller (here or elsewhere) try again.
        await this.store.releaseRefreshLease(installationId, this.owner).catch(() => {});
      }
      throw error;
    }
    if (grant.memberId && grant.memberId !== memberId) {
      this.logger?.warn(
        { installationId, memberId, grantMemberId: grant.memberId },
        'bitrix24 OAuth answered for another member_id',
      );
    }
    const saved = await this.store.replaceTokens(installationId, stored.version, grant);
    if (saved) return this.remember(installationId, saved);
    // The row changed under our lease (a reinstall saved new tokens): those win.
    this.logger?.warn({ installationId }, 'bitrix24 tokens changed during refresh; using the stored ones');
    const current = await this.store.getTokens(installationId);
    if (current && this.isFresh(current.expiresAt.getTime())) return this.remember(installationId, current);
    throw new TransientError({
      code: 'TOKEN_CONFLICT',
      status: 0,
      description: 'tokens changed during refresh',
      method: 'oauth/token',
    });
  }

  private async markNeedsReinstall(
    installationId: number,
    version: number,
    error: Bitrix24Error,
  ): Promise<void> {
    this.dead.set(installationId, version);
    this.cache.delete(installationId);
    const reason = `${error.code}: ${error.description || 'refresh token refused'}`;
    await this.store.setStatus(installationId, 'needs_reinstall', reason);
    await this.store.releaseRefreshLease(installationId, this.owner).catch(() => {});
    this.logger?.error(
      { installationId, code: error.code },
      'bitrix24 refresh token refused (invalid_grant): installation marked needs_reinstall; it works again after a reinstall',
    );
  }

  private remember(installationId: number, tokens: StoredTokens): string {
    this.cache.set(installationId, {
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt.getTime(),
      version: tokens.version,
    });
    this.dead.delete(installationId);
    return tokens.accessToken;
  }

  private reinstallError(installationId: number, code: string, description: string): ReinstallRequiredError {
    return new ReinstallRequiredError({
      code,
      status: 0,
      description: `installation ${installationId}: ${description}`,
      method: 'oauth/token',
    });
  }
}
