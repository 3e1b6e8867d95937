// Self-healing (installer.ts delegates): an installation that lost its tokens takes those of a
// portal administrator who opens one of its pages, once the portal and the OAuth server confirm them.
import { isBitrix24Error } from '../bitrix24/errors.js';
import { OAuthServers } from '../bitrix24/oauth-servers.js';
import type { GrantCheckDeps, Healed, HealRequest, VerifiedGrant } from './install-types.js';
import { hostOf, ownerOf } from './install-verification.js';
import type { Installation } from './types.js';

/** Revives a needs_reinstall installation with the tokens of an administrator's visit. */
export class Healer {
  constructor(
    private readonly deps: GrantCheckDeps,
    private readonly now: () => number,
  ) {}

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
    const owner = await ownerOf(this.deps.oauth, request.accessToken, oauthBase);
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
