// Whether a portal still accepts the app's stored grant: one app.info with the installation's
// tokens (the token manager first re-reads and refreshes a rejected access token). One verdict
// for the uninstall check and the operator's `check`: only the OAuth server refusing the refresh
// token that is still the stored one proves the grant gone (issue #20.1); a rejected access
// token proves nothing.
import type { Bitrix24ClientFactory } from '../bitrix24/client-factory.js';
import { type Bitrix24Error, isBitrix24Error, PaymentRequiredError } from '../bitrix24/errors.js';
import type { Installation } from './types.js';

export type GrantVerdict = 'working' | 'revoked' | 'payment_required' | 'unreachable' | 'unknown';

export interface GrantCheck {
  verdict: GrantVerdict;
  /** The Bitrix24 error code (and what it means) when not working. */
  detail: string | null;
}

/** What a failure of a call with the stored grant says about that grant. */
export function grantVerdictOf(error: Bitrix24Error): GrantVerdict {
  if (error instanceof PaymentRequiredError) return 'payment_required';
  if (error.kind === 'reinstall' && error.method === 'oauth/token') return 'revoked';
  if (error.kind === 'transient' || error.kind === 'rate_limit') return 'unreachable';
  return 'unknown';
}

export async function checkGrant(
  clients: Pick<Bitrix24ClientFactory, 'forInstallation'>,
  installation: Installation,
): Promise<GrantCheck> {
  try {
    await clients.forInstallation(installation).app.info(undefined);
    return { verdict: 'working', detail: null };
  } catch (error) {
    if (!isBitrix24Error(error)) throw error;
    const detail = `${error.code}${error.description ? `: ${error.description}` : ''}`;
    return { verdict: grantVerdictOf(error), detail };
  }
}
