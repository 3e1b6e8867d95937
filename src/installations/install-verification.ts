// The verification of an install (installer.ts has the whole path): the OAuth server's word on
// the posted tokens (its word on the access token, else a refresh recorded at once as a pending
// install, resumed by a reload), then the administrator check with the confirmed token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isBitrix24Error } from '../bitrix24/errors.js';
import { OAuthServers } from '../bitrix24/oauth-servers.js';
import { AppError } from '../errors.js';
import type { GrantCheckDeps, InstallRequest, OAuthExchange, VerifiedGrant } from './install-types.js';
import type { TokenOwner } from './token-inspect.js';
import type { Installation, PendingInstall } from './types.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameHash(a: string | null, b: string): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Statuses in which a reload of the last verified install page may finish that install. */
const RELOADABLE = new Set(['new', 'active']);

/** A pending grant whose access token ends within this is renewed before the admin check. */
const PENDING_RENEW_MS = 60_000;

export type Verification = { kind: 'grant'; grant: VerifiedGrant; grantHash: string } | { kind: 'reload' };

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

/** Confirms an install's tokens with the OAuth server and its user as a portal administrator. */
export class InstallVerification {
  constructor(
    private readonly deps: GrantCheckDeps,
    private readonly now: () => number,
  ) {}

  /**
   * The OAuth server's word on the request's tokens: a fresh grant (now recorded as pending),
   * the pending grant of an install interrupted before its end, or a reload of an install that
   * completed.
   */
  async verify(request: InstallRequest, existing: Installation | null): Promise<Verification> {
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
    const owner = await ownerOf(this.deps.oauth, accessToken, oauthBase);
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

  /**
   * The administrator check of an install, with the grant's own access token: a refusal drops
   * the pending grant; an unreachable portal leaves it for a reload.
   */
  async requireAdmin(grant: VerifiedGrant, grantHash: string, memberId: string): Promise<void> {
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
}

/** The OAuth server's word on a token; null when it refuses the token or does not say. */
export async function ownerOf(
  oauth: OAuthExchange,
  accessToken: string,
  oauthBase: string,
): Promise<TokenOwner | null> {
  try {
    return await oauth.inspect(accessToken, oauthBase);
  } catch (error) {
    // Unreachable or overloaded: the caller's request fails and may be repeated. Any other
    // refusal (expired, unknown token, no such method) leaves the decision to the refresh check.
    if (!isBitrix24Error(error) || error.kind === 'transient' || error.kind === 'rate_limit') throw error;
    return null;
  }
}

export function hostOf(endpoint: string): string {
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
