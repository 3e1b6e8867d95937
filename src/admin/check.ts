// Asks each portal whether it still accepts the app's stored tokens (app.info). The check marks
// nothing itself: the token manager alone moves an installation to a terminal state, and only
// when the OAuth server refuses the refresh token that is still the stored one (issue #20.1). A
// token the portal rejects is first replaced by the stored pair, then refreshed, so a replica's
// stale token never passes for a lost installation.
import { checkGrant, type GrantVerdict } from '../installations/grant-check.js';
import type { Installation } from '../installations/types.js';
import { mapLimited, type OpsServices } from './ops.js';

export type CheckOutcome = 'ok' | 'needs_reinstall' | 'payment_required' | 'unreachable' | 'error';

export interface CheckResult {
  memberId: string;
  domain: string;
  outcome: CheckOutcome;
  /** The Bitrix24 error code (and what it means) when not ok. */
  detail: string | null;
}

/** Portals are independent (own rate limits), so a few are checked at once. */
const CONCURRENCY = 4;

const OUTCOME: Record<GrantVerdict, CheckOutcome> = {
  working: 'ok',
  revoked: 'needs_reinstall',
  payment_required: 'payment_required',
  unreachable: 'unreachable',
  unknown: 'error',
};

export async function checkInstallation(ops: OpsServices, installation: Installation): Promise<CheckResult> {
  const { verdict, detail } = await checkGrant(ops.clients, installation);
  return { memberId: installation.memberId, domain: installation.domain, outcome: OUTCOME[verdict], detail };
}

/** The installations a check covers: every one not uninstalled, or just `only`. */
export async function checkTargets(ops: OpsServices, only?: Installation): Promise<Installation[]> {
  return only ? [only] : (await ops.store.list()).filter((i) => i.status !== 'uninstalled');
}

export async function checkInstallations(
  ops: OpsServices,
  targets: Installation[],
  onResult?: (result: CheckResult) => void,
): Promise<CheckResult[]> {
  return mapLimited(targets, CONCURRENCY, async (installation) => {
    const result = await checkInstallation(ops, installation);
    onResult?.(result);
    return result;
  });
}
