// Install (the UI install POST and the ONAPPINSTALL event) as plain domain code. Tokens from a
// request are believed only after Bitrix24's OAuth server confirms them, and an install is
// accepted only from a portal administrator (user.admin with the confirmed token): every
// widget user holds a genuine AUTH_ID/REFRESH_ID pair of their own.
//
// The OAuth server confirms the posted access token without spending anything (its own
// app.info names the token's app, member_id and domain: token-inspect.ts); the posted pair is
// stored as received and first refreshed when it expires. A crash before the install is stored
// leaves the posted tokens unused, so a reload of the install page finishes it.
// Only when that answer is unavailable (the access token expired, the server does not say) is
// the pair confirmed by a refresh, which spends the posted refresh token; its answer is then
// written at once as a pending install, which a reload resumes.
//
// Once the administrator check passed, the install binds with the grant's own access token and
// then writes once: the installation with its final status, its tokens, the pending install
// consumed and the bindings, in one transaction (a crash before it leaves the posted pair
// unspent, or the pending install, for a reload).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { isBitrix24Error } from '../bitrix24/errors.js';
import { OAuthServers } from '../bitrix24/oauth-servers.js';
import { setBounded } from '../bounded-map.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { type BatchCaller, type BindReport, syncBindings } from './bind.js';
import { type AppManifest, type DesiredBinding, desiredBindingsOf } from './manifest.js';
import type { TokenOwner } from './token-inspect.js';
import type {
  BindingRecord,
  BindingStore,
  BindingWrite,
  Installation,
  InstallationInput,
  InstallationRecords,
  PendingInstall,
  TokenGrant,
} from './types.js';

/** What the OAuth server says about a refresh token it accepted. */
export interface VerifiedGrant extends TokenGrant {
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string | null;
  scope: string | null;
}

export interface OAuthExchange {
  /**
   * Spends `refreshToken` at the OAuth server `oauthBase` (an allowed origin); throws a
   * Bitrix24Error (`invalid_grant`...) when the server refuses.
   */
  refresh(refreshToken: string, oauthBase: string): Promise<VerifiedGrant>;
  /**
   * Asks the OAuth server `oauthBase` whose `accessToken` this is, spending nothing; null when
   * its answer does not say. Throws a Bitrix24Error when it refuses the token.
   */
  inspect(accessToken: string, oauthBase: string): Promise<TokenOwner | null>;
}

/** Where a confirmed token is asked whether its user administers the portal. */
export interface AdminCheck {
  /** `user.admin` on `clientEndpoint` with `accessToken`: true only for an administrator. */
  isAdmin(target: { memberId: string; clientEndpoint: string }, accessToken: string): Promise<boolean>;
}

export interface InstallRequest {
  memberId: string;
  domain: string;
  protocol: 'http' | 'https';
  lang: string;
  refreshToken: string;
  /** AUTH_ID / auth[access_token]: confirmed with the OAuth server, which spends nothing. */
  accessToken?: string | null;
  /** Seconds the access token has left (AUTH_EXPIRES; auth[expires_in] in events); default an hour. */
  expiresInSeconds?: number | null;
  /** APPLICATION_SCOPE / auth[scope], as the portal posted it (informational). */
  scope?: string | null;
  /** Set only from the install POST / ONAPPINSTALL; stored only after the admin check passed. */
  applicationToken?: string | null;
  /** SERVER_ENDPOINT / auth[server_endpoint]: the portal's OAuth server, checked against the allowlist. */
  serverEndpoint?: string | null;
}

/** A portal administrator's own tokens from a widget or app-page POST (self-healing). */
export interface HealRequest {
  accessToken: string;
  refreshToken: string;
  /** AUTH_EXPIRES of the visit. */
  expiresInSeconds: number;
}

/**
 * A healed installation, and the administrator's fresh access token: the posted one may stop
 * working once its refresh token is spent (Bitrix24 does not say), so the page acts with this.
 */
export interface Healed {
  installation: Installation;
  accessToken: string;
  expiresAt: Date;
}

export interface InstallResult {
  installation: Installation;
  report: BindReport;
}

export interface InstallerDeps {
  store: InstallationRecords & BindingStore;
  oauth: OAuthExchange;
  /** The allowlist of OAuth servers (B24_OAUTH_SERVERS). */
  servers: OAuthServers;
  admin: AdminCheck;
  /** A REST client acting with the installation's stored tokens. */
  clientFor(installation: Installation): BatchCaller;
  /**
   * A REST client acting with `accessToken` (an install grant's, just confirmed) on `clientEndpoint`:
   * an install binds with it before anything is stored, then writes once.
   */
  clientWith(target: { memberId: string; clientEndpoint: string }, accessToken: string): BatchCaller;
  config: Pick<Config, 'publicUrl'> & { bitrix24: Pick<Config['bitrix24'], 'allowHttp' | 'clientId'> };
  /** What the app binds and subscribes to (placements/registry.ts builds it from the modules). */
  manifest: AppManifest;
  log: Logger;
  now?: () => number;
  /** Refreshes the installation's tokens now (TokenManager.refreshNow): the answer names its endpoint. */
  refreshNow?(installationId: number): Promise<void>;
  /** Told the tokens an install has just stored (TokenManager.adopt): its bind does not read them back. */
  tokensStored?(installationId: number, tokens: TokenGrant): void;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameHash(a: string | null, b: string): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Statuses in which a reload of the last verified install page may finish that install. */
const RELOADABLE = new Set(['new', 'active']);

/** A pending grant whose access token ends within this is renewed before the admin check. */
const PENDING_RENEW_MS = 60_000;

type Verification = { kind: 'grant'; grant: VerifiedGrant; grantHash: string } | { kind: 'reload' };

/**
 * An install binds with the grant's own access token, then writes once, when the token has more
 * than this left; else it stores the tokens first and binds through the token manager, which
 * refreshes them should they end meanwhile.
 */
const BIND_WITH_GRANT_MS = 60_000;

/** Used when a posted access token's lifetime is unknown: the install finishes well within it. */
const DEFAULT_TOKEN_SECONDS = 3600;

const notVerified = () =>
  new AppError(
    403,
    'install_not_verified',
    'Bitrix24 did not confirm these install tokens. Start the installation again from the portal.',
  );

const requiresAdmin = () =>
  new AppError(
    403,
    'install_requires_admin',
    'Only a portal administrator can install this app. Ask an administrator of your Bitrix24 to install it.',
  );

const portalMismatch = () =>
  new AppError(
    403,
    'portal_mismatch',
    'The install tokens belong to a different portal than the request names.',
  );

/** After a page named another address, how long the OAuth server is not asked about this portal again. */
const UNCONFIRMED_ADDRESS_MS = 5 * 60_000;

export class Installer {
  private readonly now: () => number;
  /** member_id → until when no page's address is confirmed again (bounds forced refreshes). */
  private readonly unconfirmed = new Map<string, number>();

  constructor(private readonly deps: InstallerDeps) {
    this.now = deps.now ?? Date.now;
  }

  desired(lang: string): DesiredBinding[] {
    return desiredBindingsOf(this.deps.manifest, this.deps.config.publicUrl, lang);
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    const { store, log } = this.deps;
    if (request.protocol === 'http' && !this.deps.config.bitrix24.allowHttp) {
      throw new AppError(400, 'https_required', 'This app accepts only portals served over https.');
    }
    const existing = await store.find(request.memberId);
    const verification = await this.verify(request, existing);

    if (verification.kind === 'reload') {
      // A reload of the install page we already verified (the administrator's own spent
      // refresh token names it): same portal, nothing new to store.
      const installation = existing!;
      if (installation.domain !== request.domain) {
        throw new AppError(
          403,
          'domain_mismatch',
          'This request names a different portal address than the installed one.',
        );
      }
      log.info(
        { memberId: installation.memberId, domain: installation.domain, status: installation.status },
        'installation saved',
      );
      const report = await this.sync(installation, request.lang, undefined, (r) =>
        statusAfterBind(installation, r),
      );
      return this.finished(installation, report);
    }
    const { grant, grantHash } = verification;
    await this.requireAdmin(grant, grantHash, request.memberId);
    const input: InstallationInput = {
      memberId: request.memberId,
      domain: request.domain,
      clientEndpoint: grant.clientEndpoint,
      serverEndpoint: grant.serverEndpoint,
      scope: grant.scope,
      lang: request.lang,
      // An administrator's install is the portal's word: a new token replaces the old one,
      // and an install without one clears it (a stale token would refuse real events).
      applicationToken: request.applicationToken ?? null,
      status: existing?.status === 'active' ? 'active' : 'new',
      installGrantHash: grantHash,
    };
    const { installation, report } =
      grant.expiresAt.getTime() - this.now() > BIND_WITH_GRANT_MS
        ? await this.bindThenStore(existing, input, grant, grantHash, request.lang)
        : await this.storeThenBind(existing, input, grant, grantHash, request.lang);
    return this.finished(installation, report);
  }

  /**
   * Binds with the grant's access token, then writes the install once: the installation with
   * its final status, its tokens, the pending grant consumed and the bindings, in one
   * transaction. A bind that fails in part is stored with its failure (the installation keeps
   * its status, with the error); one that does not finish stores the install as it stands
   * (bindings as recorded), so uninstall events are proven and a reload binds again.
   */
  private async bindThenStore(
    existing: Installation | null,
    input: InstallationInput,
    grant: VerifiedGrant,
    grantHash: string,
    lang: string,
  ): Promise<InstallResult> {
    const { store } = this.deps;
    // A portal installing for the first time has nothing recorded yet: not asked.
    const recorded = existing ? await store.listBindings(existing.id) : [];
    const write = { completesPending: grantHash, existingId: existing?.id ?? null, recorded };
    let report: BindReport;
    try {
      report = await syncBindings(
        this.deps.clientWith(grant, grant.accessToken),
        this.desired(lang),
        recorded,
      );
    } catch (error) {
      const installation = await store.saveInstall(input, grant, { ...write, bindings: recorded });
      this.deps.tokensStored?.(installation.id, grant);
      throw error;
    }
    // The bind's outcome is judged against the row as the install leaves it before that outcome.
    const status = statusAfterBind(
      { status: input.status ?? 'new', lastError: existing?.lastError ?? null },
      report,
    );
    const installation = await store.saveInstall(input, grant, {
      ...write,
      bindings: report.record,
      ...(status && { status }),
    });
    this.deps.tokensStored?.(installation.id, grant);
    this.deps.log.info(
      { memberId: installation.memberId, domain: installation.domain, status: installation.status },
      'installation saved',
    );
    return { installation, report };
  }

  /**
   * A grant about to end: its tokens are stored first, and the bind goes through the token
   * manager (clientFor), which refreshes them when they end.
   */
  private async storeThenBind(
    existing: Installation | null,
    input: InstallationInput,
    grant: VerifiedGrant,
    grantHash: string,
    lang: string,
  ): Promise<InstallResult> {
    const installation = await this.deps.store.save(input, grant, { completesPending: grantHash });
    this.deps.tokensStored?.(installation.id, grant);
    this.deps.log.info(
      { memberId: installation.memberId, domain: installation.domain, status: installation.status },
      'installation saved',
    );
    // A portal installing for the first time has nothing recorded yet: not asked.
    const report = await this.sync(installation, lang, existing ? undefined : [], (r) =>
      statusAfterBind(installation, r),
    );
    return { installation, report };
  }

  /** An install's end: 502 install_incomplete naming each binding refused, else the active installation. */
  private finished(installation: Installation, report: BindReport): InstallResult {
    if (report.failed.length) {
      const what = failedBindings(report);
      throw new AppError(502, 'install_incomplete', `Bitrix24 refused or failed these bindings: ${what}.`, {
        failed: report.failed.map((f) => ({ placement: f.binding.code, code: f.code })),
      });
    }
    this.deps.log.info(
      { memberId: installation.memberId, status: 'active', bound: report.bound.length },
      'app installed',
    );
    return { installation: { ...installation, status: 'active', lastError: null }, report };
  }

  /**
   * Self-healing: an installation that lost its tokens (needs_reinstall) takes those of a
   * portal administrator who opens one of its pages. The administrator check runs first with
   * the posted access token on the pinned endpoint; the OAuth server then confirms the pair
   * (its word on the access token, spending nothing; else a refresh, checked again).
   * Returns the revived installation, or null when this visitor cannot heal it.
   */
  async heal(installation: Installation, request: HealRequest): Promise<Healed | null> {
    const { store, log } = this.deps;
    if (installation.status !== 'needs_reinstall') return null;
    const target = { memberId: installation.memberId, clientEndpoint: installation.clientEndpoint };
    if (!(await this.isAdminQuietly(target, request.accessToken))) return null;
    const oauthBase = this.deps.servers.resolve(installation.serverEndpoint);
    const owner = await this.ownerOf(request.accessToken, oauthBase);
    let grant: VerifiedGrant | null;
    if (owner) {
      const ours =
        owner.clientId === this.deps.config.bitrix24.clientId &&
        owner.memberId === installation.memberId &&
        owner.domain === installation.domain;
      if (!ours) {
        log.warn({ memberId: installation.memberId }, 'heal refused: tokens belong to another portal or app');
        return null;
      }
      grant = {
        accessToken: request.accessToken,
        refreshToken: request.refreshToken,
        expiresAt: new Date(this.now() + request.expiresInSeconds * 1000),
        userId: null,
        memberId: installation.memberId,
        clientEndpoint: installation.clientEndpoint,
        serverEndpoint: OAuthServers.endpointOf(oauthBase),
        scope: null,
      };
    } else {
      grant = await this.healByRefresh(installation, request, oauthBase);
      if (!grant) return null;
    }
    const healed = await store.save(
      {
        memberId: installation.memberId,
        domain: installation.domain,
        clientEndpoint: grant.clientEndpoint,
        serverEndpoint: grant.serverEndpoint,
        // No scope: neither confirmation names one (both grants carry scope null), so the stored one stays.
        status: 'active',
      },
      grant,
      { healed: true },
    );
    await store.setStatus(healed.id, 'active', null);
    log.info(
      { memberId: installation.memberId, healCount: healed.healCount },
      'installation healed by an administrator visit',
    );
    return {
      installation: { ...healed, status: 'active', lastError: null, lastErrorAt: null },
      accessToken: grant.accessToken,
      expiresAt: grant.expiresAt,
    };
  }

  /** The older way to confirm a healing pair: spend it, check the answer and the new token again. */
  private async healByRefresh(
    installation: Installation,
    request: HealRequest,
    oauthBase: string,
  ): Promise<VerifiedGrant | null> {
    let grant: VerifiedGrant;
    try {
      grant = await this.deps.oauth.refresh(request.refreshToken, oauthBase);
    } catch (error) {
      if (isBitrix24Error(error) && (error.kind === 'reinstall' || error.kind === 'auth')) return null;
      throw error;
    }
    if (grant.memberId !== installation.memberId || hostOf(grant.clientEndpoint) !== installation.domain) {
      this.deps.log.warn(
        { memberId: installation.memberId },
        'heal refused: tokens belong to another portal',
      );
      return null;
    }
    return (await this.isAdminQuietly(grant, grant.accessToken)) ? grant : null;
  }

  /**
   * The portal's address changed (member_id survives a rename; DOMAIN and client endpoint do
   * not): pins the new endpoint the OAuth server named and re-syncs the bindings, in the
   * background (a token refresh may be what told us, and binding needs its tokens).
   */
  async repin(installation: Installation, clientEndpoint: string): Promise<Installation> {
    const domain = hostOf(clientEndpoint);
    const moved = await this.deps.store.save({ memberId: installation.memberId, domain, clientEndpoint });
    this.deps.log.warn(
      { memberId: installation.memberId, from: installation.domain, to: domain },
      'portal address changed: installation re-pinned',
    );
    void this.bind(moved, installation.lang ?? 'en').then(
      (report) => {
        if (report.failed.length)
          this.deps.log.warn({ memberId: moved.memberId }, 're-sync after an address change failed in part');
      },
      (error: unknown) =>
        this.deps.log.warn(
          { memberId: moved.memberId, err: error },
          're-sync after an address change failed',
        ),
    );
    return moved;
  }

  /**
   * A page names another address than the pinned one. Believed only when the OAuth server,
   * asked with this installation's own refresh token, names that address for its member_id
   * (the refresh re-pins through `repin`). Returns the re-pinned installation, or null.
   * At most one such refresh per portal every UNCONFIRMED_ADDRESS_MS, whatever address a page
   * names: forged pages naming ever new addresses cannot make us rotate a portal's tokens. A
   * real rename is also re-pinned by the next ordinary refresh of its tokens.
   */
  async confirmAddress(installation: Installation, domain: string): Promise<Installation | null> {
    const now = this.now();
    if ((this.unconfirmed.get(installation.memberId) ?? 0) > now || !this.deps.refreshNow) return null;
    setBounded(this.unconfirmed, installation.memberId, now + UNCONFIRMED_ADDRESS_MS, 10_000);
    await this.deps.refreshNow(installation.id);
    const current = await this.deps.store.find(installation.memberId);
    if (current && current.domain === domain) {
      this.unconfirmed.delete(installation.memberId);
      return current;
    }
    this.deps.log.warn(
      { memberId: installation.memberId },
      'page refused: the OAuth server does not confirm its address',
    );
    return null;
  }

  /** Re-runs the bindings of an installation (reinstall, PUBLIC_URL change). */
  async bind(installation: Installation, lang: string): Promise<BindReport> {
    return this.sync(installation, lang);
  }

  /**
   * Syncs the portal's bindings against `recorded` (read here when not given) and records the
   * outcome, with the status `statusAfter` names for it, in one write: nothing is read twice.
   */
  private async sync(
    installation: Installation,
    lang: string,
    recorded?: readonly Omit<BindingRecord, 'boundAt'>[],
    statusAfter?: (report: BindReport) => BindingWrite['status'],
  ): Promise<BindReport> {
    const known = recorded ?? (await this.deps.store.listBindings(installation.id));
    const report = await syncBindings(this.deps.clientFor(installation), this.desired(lang), known);
    const status = statusAfter?.(report);
    await this.deps.store.setBindings(installation.id, report.record, {
      recorded: known,
      ...(status && { status }),
    });
    return report;
  }

  /**
   * The OAuth server's word on the request's tokens: a fresh grant (now recorded as pending),
   * the pending grant of an install interrupted before its end, or a reload of an install that
   * completed.
   */
  private async verify(request: InstallRequest, existing: Installation | null): Promise<Verification> {
    const grantHash = sha256(request.refreshToken);
    // A reload of an install page already stored: the administrator's own refresh token names
    // it (only its hash is kept, and nobody else holds the token). Nothing new to store or ask.
    if (existing && RELOADABLE.has(existing.status) && sameHash(existing.installGrantHash, grantHash)) {
      return { kind: 'reload' };
    }
    // Before anything is sent: a server off the allowlist never sees our tokens or client secret.
    const oauthBase = this.deps.servers.resolve(request.serverEndpoint);
    const inspected = request.accessToken ? await this.inspectInstall(request, oauthBase) : null;
    if (inspected) return { kind: 'grant', grant: inspected, grantHash };
    let grant: VerifiedGrant;
    try {
      grant = await this.deps.oauth.refresh(request.refreshToken, oauthBase);
    } catch (error) {
      if (isBitrix24Error(error) && error.kind === 'reinstall') {
        const pending = await this.deps.store.findPendingInstall(grantHash);
        if (pending && pending.memberId === request.memberId) {
          return { kind: 'grant', grant: await this.resume(pending), grantHash };
        }
      }
      if (isBitrix24Error(error) && (error.kind === 'reinstall' || error.kind === 'auth')) {
        this.deps.log.warn(
          { memberId: request.memberId, code: error.code },
          'install refused: tokens not confirmed by OAuth',
        );
        throw notVerified();
      }
      throw error;
    }
    if (grant.memberId !== request.memberId || hostOf(grant.clientEndpoint) !== request.domain) {
      this.deps.log.warn(
        { memberId: request.memberId, domain: request.domain },
        'install refused: tokens belong to another portal',
      );
      throw portalMismatch();
    }
    // Nothing but this write stands between the OAuth answer and a record of it.
    await this.deps.store.savePendingInstall(pendingOf(grantHash, grant));
    return { kind: 'grant', grant, grantHash };
  }

  /**
   * The posted pair, confirmed by the OAuth server's word on the access token (nothing spent),
   * or null when that word is unavailable (token expired or unknown to it, or an answer that
   * does not name the owner): the refresh check decides then.
   */
  private async inspectInstall(request: InstallRequest, oauthBase: string): Promise<VerifiedGrant | null> {
    const accessToken = request.accessToken!;
    const owner = await this.ownerOf(accessToken, oauthBase);
    if (!owner) return null;
    if (owner.clientId !== this.deps.config.bitrix24.clientId) {
      this.deps.log.warn({ memberId: request.memberId }, 'install refused: the token belongs to another app');
      throw notVerified();
    }
    if (owner.memberId !== request.memberId || owner.domain !== request.domain) {
      this.deps.log.warn(
        { memberId: request.memberId, domain: request.domain },
        'install refused: tokens belong to another portal',
      );
      throw portalMismatch();
    }
    return {
      accessToken,
      refreshToken: request.refreshToken,
      expiresAt: new Date(this.now() + (request.expiresInSeconds ?? DEFAULT_TOKEN_SECONDS) * 1000),
      userId: null,
      memberId: owner.memberId,
      clientEndpoint: `${request.protocol}://${owner.domain}/rest/`,
      serverEndpoint: OAuthServers.endpointOf(oauthBase),
      scope: request.scope ?? null,
    };
  }

  /** The OAuth server's word on a token; null when it refuses the token or does not say. */
  private async ownerOf(accessToken: string, oauthBase: string): Promise<TokenOwner | null> {
    try {
      return await this.deps.oauth.inspect(accessToken, oauthBase);
    } catch (error) {
      // Unreachable or overloaded: the caller's request fails and may be repeated. Any other
      // refusal (expired, unknown token, no such method) leaves the decision to the refresh check.
      if (!isBitrix24Error(error) || error.kind === 'transient' || error.kind === 'rate_limit') throw error;
      return null;
    }
  }

  /** A pending grant found again; its access token is renewed first when it is about to end. */
  private async resume(pending: PendingInstall): Promise<VerifiedGrant> {
    const grant: VerifiedGrant = { ...pending };
    if (pending.expiresAt.getTime() - this.now() > PENDING_RENEW_MS) return grant;
    const renewed = await this.deps.oauth.refresh(
      pending.refreshToken,
      this.deps.servers.resolve(pending.serverEndpoint),
    );
    if (renewed.memberId !== pending.memberId) throw portalMismatch();
    await this.deps.store.savePendingInstall(pendingOf(pending.grantHash, renewed));
    return renewed;
  }

  private async requireAdmin(grant: VerifiedGrant, grantHash: string, memberId: string): Promise<void> {
    let admin: boolean;
    try {
      admin = await this.deps.admin.isAdmin(grant, grant.accessToken);
    } catch (error) {
      // The portal refusing a token its own OAuth server just issued: not an install to trust.
      if (isBitrix24Error(error) && (error.kind === 'auth' || error.kind === 'reinstall')) {
        await this.deps.store.deletePendingInstall(grantHash);
        throw notVerified();
      }
      // Unreachable or slow: the pending grant stays, a reload finishes the install.
      throw error;
    }
    if (!admin) {
      await this.deps.store.deletePendingInstall(grantHash);
      this.deps.log.warn(
        { memberId, userId: grant.userId ?? null },
        'install refused: not a portal administrator',
      );
      throw requiresAdmin();
    }
  }

  /** user.admin where a refusal of the token simply means "not an administrator we can trust". */
  private async isAdminQuietly(
    target: { memberId: string; clientEndpoint: string },
    accessToken: string,
  ): Promise<boolean> {
    try {
      return await this.deps.admin.isAdmin(target, accessToken);
    } catch (error) {
      if (isBitrix24Error(error) && (error.kind === 'auth' || error.kind === 'access')) return false;
      throw error;
    }
  }
}

function failedBindings(report: BindReport): string {
  return report.failed.map((f) => `${f.binding.code} (${f.code})`).join(', ');
}

/** What an install's bind leaves: the status kept and the failure named, or active without error. */
function statusAfterBind(
  installation: Pick<Installation, 'status' | 'lastError'>,
  report: BindReport,
): BindingWrite['status'] {
  if (report.failed.length) {
    return { status: installation.status, error: `binding failed: ${failedBindings(report)}` };
  }
  const settled = installation.status === 'active' && installation.lastError === null;
  return settled ? undefined : { status: 'active', error: null };
}

function hostOf(endpoint: string): string {
  return new URL(endpoint).host;
}

function pendingOf(grantHash: string, grant: VerifiedGrant): PendingInstall {
  return {
    grantHash,
    memberId: grant.memberId,
    clientEndpoint: grant.clientEndpoint,
    serverEndpoint: grant.serverEndpoint,
    scope: grant.scope,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    expiresAt: grant.expiresAt,
    userId: grant.userId ?? null,
  };
}
