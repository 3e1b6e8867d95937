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
//
// The verification of the tokens and the administrator check live in install-verification.ts,
// self-healing in heal.ts; this file runs the install, its bind and write, and address changes.
import { setBounded } from '../bounded-map.js';
import { AppError } from '../errors.js';
import { type BindReport, syncBindings } from './bind.js';
import { Healer } from './heal.js';
import type {
  Healed,
  HealRequest,
  InstallerDeps,
  InstallRequest,
  InstallResult,
  VerifiedGrant,
} from './install-types.js';
import { hostOf, InstallVerification } from './install-verification.js';
import { type DesiredBinding, desiredBindingsOf } from './manifest.js';
import type { BindingRecord, BindingWrite, Installation, InstallationInput } from './types.js';

export type {
  AdminCheck,
  Healed,
  HealRequest,
  InstallerDeps,
  InstallRequest,
  InstallResult,
  OAuthExchange,
  VerifiedGrant,
} from './install-types.js';

/**
 * An install binds with the grant's own access token, then writes once, when the token has more
 * than this left; else it stores the tokens first and binds through the token manager, which
 * refreshes them should they end meanwhile.
 */
const BIND_WITH_GRANT_MS = 60_000;

/** After a page named another address, how long the OAuth server is not asked about this portal again. */
const UNCONFIRMED_ADDRESS_MS = 5 * 60_000;

/** An install whose tokens and administrator are confirmed, ready to bind and store. */
interface ConfirmedInstall {
  /** The installation found for this member_id before the install, if any. */
  existing: Installation | null;
  input: InstallationInput;
  grant: VerifiedGrant;
  /** sha256 of the posted refresh token: names the pending install it consumes. */
  grantHash: string;
  lang: string;
}

export class Installer {
  private readonly now: () => number;
  /** member_id → until when no page's address is confirmed again (bounds forced refreshes). */
  private readonly unconfirmed = new Map<string, number>();
  private readonly verification: InstallVerification;
  private readonly healer: Healer;

  constructor(private readonly deps: InstallerDeps) {
    this.now = deps.now ?? Date.now;
    this.verification = new InstallVerification(deps, this.now);
    this.healer = new Healer(deps, this.now);
  }

  desired(lang: string): DesiredBinding[] {
    return desiredBindingsOf(this.deps.manifest, this.deps.config.publicUrl, lang);
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    const { store } = this.deps;
    if (request.protocol === 'http' && !this.deps.config.bitrix24.allowHttp) {
      throw new AppError(400, 'https_required', 'This app accepts only portals served over https.');
    }
    const existing = await store.find(request.memberId);
    const verification = await this.verification.verify(request, existing);

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
      this.logSaved(installation);
      const report = await this.sync(installation, request.lang, undefined, (r) =>
        statusAfterBind(installation, r),
      );
      return this.finished(installation, report);
    }
    const { grant, grantHash } = verification;
    await this.verification.requireAdmin(grant, grantHash, request.memberId);
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
        ? await this.bindThenStore({ existing, input, grant, grantHash, lang: request.lang })
        : await this.storeThenBind({ existing, input, grant, grantHash, lang: request.lang });
    return this.finished(installation, report);
  }

  /**
   * Binds with the grant's access token, then writes the install once: the installation with
   * its final status, its tokens, the pending grant consumed and the bindings, in one
   * transaction. A bind that fails in part is stored with its failure (the installation keeps
   * its status, with the error); one that does not finish stores the install as it stands
   * (bindings as recorded), so uninstall events are proven and a reload binds again.
   */
  private async bindThenStore(install: ConfirmedInstall): Promise<InstallResult> {
    const { existing, input, grant, grantHash, lang } = install;
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
    this.logSaved(installation);
    return { installation, report };
  }

  /**
   * A grant about to end: its tokens are stored first, and the bind goes through the token
   * manager (clientFor), which refreshes them when they end.
   */
  private async storeThenBind(install: ConfirmedInstall): Promise<InstallResult> {
    const { existing, input, grant, grantHash, lang } = install;
    const installation = await this.deps.store.save(input, grant, { completesPending: grantHash });
    this.deps.tokensStored?.(installation.id, grant);
    this.logSaved(installation);
    // A portal installing for the first time has nothing recorded yet: not asked.
    const report = await this.sync(installation, lang, existing ? undefined : [], (r) =>
      statusAfterBind(installation, r),
    );
    return { installation, report };
  }

  private logSaved(installation: Installation): void {
    this.deps.log.info(
      { memberId: installation.memberId, domain: installation.domain, status: installation.status },
      'installation saved',
    );
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
   * Self-healing (heal.ts): an installation that lost its tokens (needs_reinstall) takes those of
   * a portal administrator who opens one of its pages. Null when this visitor cannot heal it.
   */
  heal(installation: Installation, request: HealRequest): Promise<Healed | null> {
    return this.healer.heal(installation, request);
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
