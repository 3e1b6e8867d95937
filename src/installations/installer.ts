// Install (the UI install POST and the ONAPPINSTALL event) as plain domain code. Tokens from a
// request are believed only after Bitrix24's OAuth server confirms them: a refresh with our
// client secret succeeds only for genuine tokens and names the portal authoritatively.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { isBitrix24Error } from '../bitrix24/errors.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { type DesiredBinding, desiredBindings } from '../placements/registry.js';
import { type BatchCaller, type BindReport, syncBindings } from './bind.js';
import type { Installation, InstallationStore, TokenGrant } from './types.js';

/** What the OAuth server says about a refresh token it accepted. */
export interface VerifiedGrant extends TokenGrant {
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string | null;
  scope: string | null;
}

export interface OAuthExchange {
  /** Spends `refreshToken`; throws a Bitrix24Error (`invalid_grant`...) when the server refuses. */
  refresh(refreshToken: string): Promise<VerifiedGrant>;
}

export interface InstallRequest {
  memberId: string;
  domain: string;
  protocol: 'http' | 'https';
  lang: string;
  refreshToken: string;
  applicationToken?: string | null;
}

export interface InstallResult {
  installation: Installation;
  report: BindReport;
}

export interface InstallerDeps {
  store: InstallationStore;
  oauth: OAuthExchange;
  /** A REST client acting with the installation's stored tokens. */
  clientFor(installation: Installation): BatchCaller;
  config: Pick<Config, 'publicUrl'> & { bitrix24: Pick<Config['bitrix24'], 'allowHttp' | 'blockCodes'> };
  log: Logger;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameHash(a: string | null, b: string): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export class Installer {
  constructor(private readonly deps: InstallerDeps) {}

  desired(lang: string): DesiredBinding[] {
    const { publicUrl, bitrix24 } = this.deps.config;
    return desiredBindings(publicUrl, bitrix24.blockCodes, lang);
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    const { store, log } = this.deps;
    if (request.protocol === 'http' && !this.deps.config.bitrix24.allowHttp) {
      throw new AppError(400, 'https_required', 'This app accepts only portals served over https.');
    }
    const existing = await store.find(request.memberId);
    const grantHash = sha256(request.refreshToken);
    const verified = await this.verify(request, existing, grantHash);

    let installation: Installation;
    if (verified) {
      installation = await store.save(
        {
          memberId: request.memberId,
          domain: request.domain,
          clientEndpoint: verified.clientEndpoint,
          serverEndpoint: verified.serverEndpoint,
          scope: verified.scope,
          lang: request.lang,
          applicationToken: request.applicationToken ?? null,
          status: existing?.status === 'active' ? 'active' : 'new',
          installGrantHash: grantHash,
        },
        verified,
      );
    } else {
      // A reload of the install page we already verified: same portal, nothing new to store.
      installation = existing!;
      if (installation.domain !== request.domain) {
        throw new AppError(
          403,
          'domain_mismatch',
          'This request names a different portal address than the installed one.',
        );
      }
    }
    log.info(
      { memberId: installation.memberId, domain: installation.domain, status: installation.status },
      'installation saved',
    );
    const report = await this.bind(installation, request.lang);
    if (report.failed.length) {
      const what = report.failed.map((f) => `${f.binding.code} (${f.code})`).join(', ');
      await store.setStatus(installation.id, installation.status, `binding failed: ${what}`);
      throw new AppError(502, 'install_incomplete', `Bitrix24 refused or failed these bindings: ${what}.`, {
        failed: report.failed.map((f) => ({ placement: f.binding.code, code: f.code })),
      });
    }
    if (installation.status !== 'active' || installation.lastError !== null) {
      await store.setStatus(installation.id, 'active', null);
    }
    log.info(
      { memberId: installation.memberId, status: 'active', bound: report.bound.length },
      'app installed',
    );
    return { installation: { ...installation, status: 'active' }, report };
  }

  /** Re-runs the bindings of an installation (reinstall, PUBLIC_URL change). */
  async bind(installation: Installation, lang: string): Promise<BindReport> {
    const recorded = await this.deps.store.listBindings(installation.id);
    const report = await syncBindings(this.deps.clientFor(installation), this.desired(lang), recorded);
    await this.deps.store.setBindings(installation.id, report.record);
    return report;
  }

  /**
   * Returns the OAuth server's word on the request's tokens, or null when this very install
   * page is being reloaded (its refresh token was already verified and spent by us).
   */
  private async verify(
    request: InstallRequest,
    existing: Installation | null,
    grantHash: string,
  ): Promise<VerifiedGrant | null> {
    let verified: VerifiedGrant;
    try {
      verified = await this.deps.oauth.refresh(request.refreshToken);
    } catch (error) {
      if (
        isBitrix24Error(error) &&
        error.kind === 'reinstall' &&
        existing &&
        sameHash(existing.installGrantHash, grantHash)
      ) {
        return null;
      }
      if (isBitrix24Error(error) && (error.kind === 'reinstall' || error.kind === 'auth')) {
        this.deps.log.warn(
          { memberId: request.memberId, code: error.code },
          'install refused: tokens not confirmed by OAuth',
        );
        throw new AppError(
          403,
          'install_not_verified',
          'Bitrix24 did not confirm these install tokens. Start the installation again from the portal.',
        );
      }
      throw error;
    }
    const endpointHost = new URL(verified.clientEndpoint).host;
    if (verified.memberId !== request.memberId || endpointHost !== request.domain) {
      this.deps.log.warn(
        { memberId: request.memberId, domain: request.domain },
        'install refused: tokens belong to another portal',
      );
      throw new AppError(
        403,
        'portal_mismatch',
        'The install tokens belong to a different portal than the request names.',
      );
    }
    return verified;
  }
}
