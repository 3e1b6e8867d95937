// The one owner of an installation's OAuth lifecycle: tokens come from the store, are
// refreshed shortly before expiry or when the portal rejects them, and are written back with
// compare-and-set. A refresh token is single-use, so exactly one refresh may run per
// installation: within this process by a shared promise, across processes by the store's
// refresh lease. Losers wait for the winner's tokens instead of spending the old refresh token.
//
// The refresh window is kept short and recoverable (issue #19.2, #20.1): the lease is short and
// renewed by a heartbeat while the OAuth request runs, so a dead holder is taken over within
// one lease; the OAuth request is never abandoned early; nothing but the database write stands
// between the OAuth answer and its commit, and a failed write is retried with the pair kept in
// memory. Only the OAuth server refusing the refresh token that is still the stored one marks
// an installation as lost.
import type { Logger } from 'pino';
import type { AccessTokenSource } from '../bitrix24/access-token.js';
import {
  type Bitrix24Error,
  PaymentRequiredError,
  ReinstallRequiredError,
  TransientError,
} from '../bitrix24/errors.js';
import type { HttpFetch } from '../bitrix24/http.js';
import type { OAuthServers } from '../bitrix24/oauth-servers.js';
import { sleep } from '../bitrix24/sleep.js';
import { type OAuthClientConfig, type RefreshedGrant, requestRefreshGrant } from './token-oauth-client.js';
import type {
  Installation,
  InstallationRecords,
  InstallationStatus,
  StoredTokens,
  TokenStore,
} from './types.js';

export type { OAuthClientConfig };

export interface TokenClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** What the token manager reads and writes: the tokens, and the status they depend on. */
export type TokenManagerStore = TokenStore & Pick<InstallationRecords, 'findById' | 'setStatus'>;

export interface TokenManagerOptions {
  store: TokenManagerStore;
  oauth: OAuthClientConfig;
  /** Unique per process (e.g. `${hostname}:${pid}:${random}`): names the refresh lease holder. */
  owner: string;
  clock?: TokenClock;
  logger?: Logger;
  fetch?: HttpFetch;
  /** Refresh this long before the recorded expiry (default 60 s). */
  refreshSkewMs?: number;
  /** Timeout of the OAuth request; never below 60 s (see MIN_OAUTH_TIMEOUT_MS). */
  oauthTimeoutMs?: number;
  /**
   * How long a lease lasts without a heartbeat: a dead holder is taken over after this (default
   * 4 s: within the 5 s issue #19 allows, with room for the refresh itself; three beats a lease).
   */
  leaseMs?: number;
  /** How often the holder renews its lease while refreshing (default a third of the lease). */
  heartbeatMs?: number;
  /** How long a caller waits for another process's refresh before giving up (default 20 s). */
  waitTimeoutMs?: number;
  /** How long a refreshed pair the database refused is retried (default 5 min). */
  writeRetryMs?: number;
  pollMinMs?: number;
  pollMaxMs?: number;
  /**
   * The OAuth-server allowlist: each installation is refreshed against the server it was
   * installed from (its serverEndpoint). Without it, always `oauth.oauthUrl`.
   */
  servers?: OAuthServers;
  /**
   * Told, after the new pair is stored, when a refresh answer names another client endpoint
   * for the same member_id: the portal's address changed (member_id survives a rename).
   */
  onEndpointChanged?(installation: Installation, clientEndpoint: string): Promise<void>;
}

export interface TokenManagerStats {
  /** Refresh requests this process sent to the OAuth server. */
  refreshRequests: number;
  /** Times this process waited for another process's refresh. */
  waitedForOtherProcess: number;
  /** Failed writes of a refreshed pair that were tried again. */
  writeRetries: number;
  /** Installations this process moved to a terminal state (needs_reinstall, payment_required). */
  markedTerminal: number;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

/** A pair the OAuth server issued to this process that the database has not taken yet. */
interface UnsavedPair {
  grant: RefreshedGrant;
  /** Settles when the pair is stored, superseded, or given up on. */
  done: Promise<void>;
}

/** A refresh's lease, kept alive while the refresh is in flight. */
interface Heartbeat {
  /** True when another process may have taken the lease over: a renewal found it gone, or none succeeded for a lease's time. */
  lapsed(): boolean;
  stop(): void;
}

/** Only these statuses are ever refreshed; every other one waits for a verified install. */
const REFRESHABLE = new Set<InstallationStatus>(['new', 'active']);

export class TokenManager {
  readonly stats: TokenManagerStats = {
    refreshRequests: 0,
    waitedForOtherProcess: 0,
    writeRetries: 0,
    markedTerminal: 0,
  };
  private readonly store: TokenManagerStore;
  private readonly oauth: OAuthClientConfig;
  private readonly owner: string;
  private readonly clock: TokenClock;
  private readonly logger: Logger | undefined;
  private readonly fetchImpl: HttpFetch | undefined;
  private readonly skewMs: number;
  private readonly oauthTimeoutMs: number | undefined;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly waitTimeoutMs: number;
  private readonly writeRetryMs: number;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private readonly cache = new Map<number, CachedToken>();
  private readonly inflight = new Map<number, Promise<string>>();
  private readonly unsaved = new Map<number, UnsavedPair>();
  private readonly servers: OAuthServers | undefined;
  private readonly onEndpointChanged: TokenManagerOptions['onEndpointChanged'];

  constructor(options: TokenManagerOptions) {
    this.servers = options.servers;
    this.onEndpointChanged = options.onEndpointChanged;
    this.store = options.store;
    this.oauth = options.oauth;
    this.owner = options.owner;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.logger = options.logger;
    this.fetchImpl = options.fetch;
    this.skewMs = options.refreshSkewMs ?? 60_000;
    this.oauthTimeoutMs = options.oauthTimeoutMs;
    this.leaseMs = options.leaseMs ?? 4_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(this.leaseMs / 3));
    this.waitTimeoutMs = options.waitTimeoutMs ?? 20_000;
    this.writeRetryMs = options.writeRetryMs ?? 5 * 60_000;
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
   * Returns a different token: the stored pair when it is newer, else a refreshed one. A
   * caller whose retry is rejected again calls this once more with the new token: then the
   * stored pair is the rejected one and only a refresh helps.
   */
  async renewAccessToken(installationId: number, rejected: string): Promise<string> {
    // Another call here already replaced the rejected token: use that one.
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

  /**
   * Drops the access token this process remembers (after a reinstall or uninstall). Nothing
   * else here outlives a status change: the status is read from the store before every refresh.
   * A pair still waiting to be stored is kept: the OAuth server issued it.
   */
  forget(installationId: number): void {
    this.cache.delete(installationId);
  }

  /**
   * Tokens this process has just stored for the installation (an install): remembered as a read
   * of them would be, so its first calls do not read them back.
   */
  adopt(installationId: number, tokens: Pick<StoredTokens, 'accessToken' | 'expiresAt'>): void {
    this.remember(installationId, tokens);
  }

  /**
   * Keep-alive: refreshes now when the stored refresh token was received before `cutoff`, under
   * the same lease as any refresh (another process refreshing it means it needs nothing from us).
   */
  async renewIfIssuedBefore(
    installationId: number,
    cutoff: Date,
  ): Promise<'refreshed' | 'recent' | 'busy' | 'skipped'> {
    if (this.inflight.has(installationId) || this.unsaved.has(installationId)) return 'busy';
    const [stored, installation] = await Promise.all([
      this.store.getTokens(installationId),
      this.store.findById(installationId),
    ]);
    if (!stored || !installation || !REFRESHABLE.has(installation.status)) return 'skipped';
    const issued = stored.refreshedAt ?? installation.installedAt;
    if (issued && issued >= cutoff) return 'recent';
    if (!(await this.acquireLease(installationId, stored.version))) return 'busy';
    if (this.inflight.has(installationId)) {
      // A caller here started a refresh between our check and the lease: let it finish.
      await this.store.releaseRefreshLease(installationId, this.owner).catch(() => {});
      return 'busy';
    }
    const flight = this.refreshUnderLease(installationId, installation, stored).finally(() =>
      this.inflight.delete(installationId),
    );
    this.inflight.set(installationId, flight);
    await flight;
    return 'refreshed';
  }

  private isFresh(expiresAt: number): boolean {
    return expiresAt - this.skewMs > this.clock.now();
  }

  /**
   * Settles when every refresh in flight has finished and every refreshed pair is stored (or
   * given up on). Shutdown waits on this: a spent refresh token whose successor is not stored
   * would lock the portal out.
   */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.unsaved.size > 0) {
      await Promise.allSettled([...this.inflight.values(), ...[...this.unsaved.values()].map((u) => u.done)]);
    }
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
    const pending = this.unsaved.get(installationId);
    if (pending) {
      // The stored refresh token is spent: our pair is the current one until it is stored.
      const { accessToken, expiresAt } = pending.grant;
      if (accessToken !== rejected && this.isFresh(expiresAt.getTime())) return accessToken;
      await pending.done;
    }
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
      const installation = await this.store.findById(installationId);
      if (!installation)
        throw this.reinstallError(installationId, 'NO_INSTALLATION', 'installation not found');
      if (!REFRESHABLE.has(installation.status)) throw this.terminalError(installation);
      if (await this.acquireLease(installationId, stored.version)) {
        return this.refreshUnderLease(installationId, installation, stored);
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

  /** Lease times are compared by the database against wall-clock time, not the injected clock. */
  private acquireLease(installationId: number, version: number): Promise<boolean> {
    return this.store.acquireRefreshLease(
      installationId,
      version,
      this.owner,
      new Date(Date.now() + this.leaseMs),
    );
  }

  /** Renews the lease every heartbeatMs until stopped; a failed renewal is tried at the next beat. */
  private startHeartbeat(installationId: number, version: number): Heartbeat {
    let busy = false;
    let lost = false;
    let renewedAt = Date.now();
    const beat: Heartbeat = {
      lapsed: () => lost || Date.now() - renewedAt > this.leaseMs,
      stop: () => clearInterval(timer),
    };
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const attemptAt = Date.now();
      this.acquireLease(installationId, version)
        .then((held) => {
          if (held) renewedAt = attemptAt;
          else lost = true;
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
        });
    }, this.heartbeatMs);
    timer.unref();
    return beat;
  }

  private async refreshUnderLease(
    installationId: number,
    installation: Installation,
    stored: StoredTokens,
  ): Promise<string> {
    this.stats.refreshRequests += 1;
    const startedAt = new Date();
    const heartbeat = this.startHeartbeat(installationId, stored.version);
    let grant: RefreshedGrant;
    try {
      // Not tied to any caller: callers may give up waiting, the refresh goes on and is stored.
      const oauthUrl = this.servers ? this.servers.resolve(installation.serverEndpoint) : this.oauth.oauthUrl;
      grant = await requestRefreshGrant({ ...this.oauth, oauthUrl }, stored.refreshToken, {
        fetch: this.fetchImpl,
        timeoutMs: this.oauthTimeoutMs,
        now: this.clock.now(),
      });
    } catch (error) {
      heartbeat.stop();
      if (error instanceof ReinstallRequiredError) return this.refused(installationId, stored, error);
      // Let the next caller (here or elsewhere) try again.
      await this.store.releaseRefreshLease(installationId, this.owner).catch(() => {});
      throw error;
    }
    // From the answer to the commit: only the write.
    let saved: StoredTokens | null | undefined;
    try {
      saved = await this.store.replaceTokens(installationId, stored.version, grant);
    } catch (error) {
      return this.keepUnsaved(installationId, stored.version, grant, heartbeat, startedAt, error);
    }
    heartbeat.stop();
    if (grant.memberId && grant.memberId !== installation.memberId) {
      this.logger?.warn(
        { installationId, memberId: installation.memberId, grantMemberId: grant.memberId },
        'bitrix24 OAuth answered for another member_id',
      );
    }
    if (saved) {
      if (heartbeat.lapsed()) await this.reviveIfMarkedSince(installationId, startedAt);
      await this.noticeEndpoint(installation, grant);
      return this.remember(installationId, saved);
    }
    return this.afterLostWrite(installationId, grant);
  }

  /** A refresh answer for this member_id naming another client endpoint re-pins the installation. */
  private async noticeEndpoint(installation: Installation, grant: RefreshedGrant): Promise<void> {
    const endpoint = grant.clientEndpoint;
    if (!this.onEndpointChanged || !endpoint || grant.memberId !== installation.memberId) return;
    if (endpoint === installation.clientEndpoint) return;
    await this.onEndpointChanged(installation, endpoint).catch((error: unknown) =>
      this.logger?.error(
        { installationId: installation.id, err: error },
        'bitrix24 portal address change not applied',
      ),
    );
  }

  /**
   * Refreshes now, whatever the token's age (under the same lease as any refresh): the OAuth
   * server's answer names the portal's current endpoint. Returns when no refresh of this
   * installation is in flight in this process any more.
   */
  async refreshNow(installationId: number): Promise<void> {
    const outcome = await this.renewIfIssuedBefore(installationId, new Date(8.64e15));
    if (outcome === 'busy') await this.inflight.get(installationId)?.catch(() => {});
  }

  /** The compare-and-set found another version: a reinstall saved new tokens, and those win. */
  private async afterLostWrite(installationId: number, grant: RefreshedGrant): Promise<string> {
    const current = await this.store.getTokens(installationId);
    // A write whose answer was lost may have committed after all: then the stored pair is ours.
    if (current && current.accessToken === grant.accessToken) return this.remember(installationId, current);
    this.logger?.warn({ installationId }, 'bitrix24 tokens changed during refresh; using the stored ones');
    if (current && this.isFresh(current.expiresAt.getTime())) return this.remember(installationId, current);
    throw new TransientError({
      code: 'TOKEN_CONFLICT',
      status: 0,
      description: 'tokens changed during refresh',
      method: 'oauth/token',
    });
  }

  /**
   * The database did not take a pair the OAuth server issued (e.g. PostgreSQL 57P01, a dropped
   * connection). The stored refresh token is spent now, so the pair is served from memory and
   * written again, with backoff, while the lease is kept alive so no other process spends the
   * stored token meanwhile.
   */
  private keepUnsaved(
    installationId: number,
    version: number,
    grant: RefreshedGrant,
    heartbeat: Heartbeat,
    startedAt: Date,
    firstError: unknown,
  ): string {
    this.logger?.warn(
      { installationId, err: describeDbError(firstError) },
      'bitrix24 refreshed tokens could not be stored; kept in memory and written again',
    );
    const done = this.writeLater(installationId, version, grant, startedAt).finally(() => {
      heartbeat.stop();
      this.unsaved.delete(installationId);
    });
    this.unsaved.set(installationId, { grant, done });
    return grant.accessToken;
  }

  private async writeLater(
    installationId: number,
    version: number,
    grant: RefreshedGrant,
    startedAt: Date,
  ): Promise<void> {
    const giveUpAt = Date.now() + this.writeRetryMs;
    let delay = 100;
    for (;;) {
      await sleep(delay);
      delay = Math.min(5_000, delay * 2);
      this.stats.writeRetries += 1;
      try {
        const saved = await this.store.replaceTokens(installationId, version, grant);
        if (saved) {
          this.remember(installationId, saved);
          this.logger?.info({ installationId }, 'bitrix24 refreshed tokens stored after a retry');
          await this.reviveIfMarkedSince(installationId, startedAt);
        } else {
          await this.afterLostWrite(installationId, grant).catch(() => {});
        }
        return;
      } catch (error) {
        if (Date.now() >= giveUpAt) {
          this.logger?.error(
            { installationId, err: describeDbError(error), triedForMs: this.writeRetryMs },
            'bitrix24 refreshed tokens could not be stored in time: the portal needs a reinstall once this process stops',
          );
          return;
        }
      }
    }
  }

  /**
   * While this refresh was slow to store, another process found the lease expired, spent the
   * same (already spent) refresh token and marked the installation lost. Our stored pair is
   * valid, so the mark is wrong: undo it.
   */
  private async reviveIfMarkedSince(installationId: number, since: Date): Promise<void> {
    const installation = await this.store.findById(installationId).catch(() => undefined);
    if (!installation || REFRESHABLE.has(installation.status)) return;
    if (installation.status !== 'needs_reinstall' && installation.status !== 'payment_required') return;
    if (!installation.lastErrorAt || installation.lastErrorAt < since) return;
    await this.store.setStatus(installationId, 'active', null);
    this.logger?.warn(
      { installationId, was: installation.status },
      'bitrix24 installation marked during a slow refresh is active again: the refreshed pair is stored',
    );
  }

  /**
   * The OAuth server refused the refresh token we sent. Only if it is still the stored one is
   * the installation lost; if a newer pair was stored meanwhile (by another process, or by a
   * reinstall), that pair is used instead.
   */
  private async refused(
    installationId: number,
    sent: StoredTokens,
    error: ReinstallRequiredError,
  ): Promise<string> {
    await this.store.releaseRefreshLease(installationId, this.owner).catch(() => {});
    const current = await this.store.getTokens(installationId);
    if (current && current.version !== sent.version) {
      this.logger?.warn(
        { installationId, code: error.code },
        'bitrix24 refused an outdated refresh token; a newer pair is stored',
      );
      return this.obtain(installationId, sent.accessToken);
    }
    this.cache.delete(installationId);
    const status = error instanceof PaymentRequiredError ? 'payment_required' : 'needs_reinstall';
    await this.store.setStatus(installationId, status, `${error.code}: ${error.description || 'refused'}`);
    this.stats.markedTerminal += 1;
    this.logger?.error(
      { installationId, code: error.code },
      `bitrix24 OAuth refused the refresh token (${error.code}): installation marked ${status}; it works again after a verified install`,
    );
    throw error;
  }

  private remember(installationId: number, tokens: Pick<StoredTokens, 'accessToken' | 'expiresAt'>): string {
    this.cache.set(installationId, {
      accessToken: tokens.accessToken,
      expiresAt: tokens.expiresAt.getTime(),
    });
    return tokens.accessToken;
  }

  /** Why no refresh is sent for this installation, as the error pages tell it. */
  private terminalError(installation: Installation): ReinstallRequiredError {
    // The OAuth answer that caused it, as recorded (also under a prefix like "rebind failed: ").
    const recorded = /\b(invalid_grant|invalid_client|PAYMENT_REQUIRED)\b/.exec(
      installation.lastError ?? '',
    )?.[1];
    const init = {
      code: recorded ?? installation.status,
      status: 0,
      description: `installation ${installation.id}: installation is ${installation.status}${installation.lastError ? `: ${installation.lastError}` : ''}`,
      method: 'oauth/token',
    };
    return installation.status === 'payment_required'
      ? new PaymentRequiredError({ ...init, code: 'PAYMENT_REQUIRED' })
      : new ReinstallRequiredError(init);
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

/** A database error for a log line: its name and code, never its message (it may quote values). */
function describeDbError(error: unknown): { name?: string; code?: string } {
  if (!error || typeof error !== 'object') return {};
  const { name, code } = error as { name?: unknown; code?: unknown };
  return {
    ...(typeof name === 'string' && { name }),
    ...(typeof code === 'string' && { code }),
  };
}
