// ONAPPUNINSTALL: the portal says the app was removed. Anyone can POST that, so the claim
// is checked before anything changes: against the stored application_token when we have one
// (constant time). Without one the claim cannot be proven: if our tokens still work it is
// refused; otherwise the installation is only marked `uninstall_reported` and kept whole (a
// refresh token that merely aged out fails the same way as an uninstalled app). An operator
// purges it (`cli purge`, the admin page), or an administrator's verified install revives it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventPayload } from '../bitrix24/payloads.js';
import { AppError } from '../errors.js';
import type { BindingStore, Installation, InstallationRecords, TokenStore } from './types.js';

export type UninstallOutcome =
  | 'unknown_portal'
  | 'already_uninstalled'
  | 'uninstalled'
  | 'cleaned'
  | 'uninstall_reported';

export interface UninstallDeps {
  store: Pick<InstallationRecords, 'find' | 'setStatus' | 'delete'> &
    Pick<TokenStore, 'deleteTokens'> &
    Pick<BindingStore, 'setBindings'>;
  log: Logger;
  /**
   * True when the portal no longer accepts the app's stored tokens (the app really is gone).
   * Used only when no application_token was ever stored for the portal.
   */
  tokensRevoked(installation: Installation): Promise<boolean>;
}

export function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths match and nothing about the stored value leaks through timing.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function forged(): AppError {
  return new AppError(
    401,
    'invalid_application_token',
    'The event is not signed with this portal’s application token.',
  );
}

export async function handleUninstall(deps: UninstallDeps, event: EventPayload): Promise<UninstallOutcome> {
  const { store, log } = deps;
  const installation = await store.find(event.auth.member_id);
  // Unknown portals get a 200 so Bitrix24 does not retry forever; nothing is stored.
  if (!installation) {
    log.info({ memberId: event.auth.member_id }, 'uninstall event for an unknown portal ignored');
    return 'unknown_portal';
  }
  if (!installation.applicationToken) {
    if (!(await deps.tokensRevoked(installation))) throw forged();
    if (installation.status !== 'uninstall_reported') {
      await store.setStatus(
        installation.id,
        'uninstall_reported',
        'ONAPPUNINSTALL without a stored application token: kept until an operator purges it',
      );
    }
    log.warn(
      { memberId: installation.memberId, status: 'uninstall_reported' },
      'uninstall reported but unprovable: nothing deleted',
    );
    return 'uninstall_reported';
  }
  if (!sameSecret(installation.applicationToken, event.auth.application_token)) throw forged();
  const clean = String(event.data.CLEAN ?? '0') === '1';
  if (clean) {
    await store.delete(installation.id);
    log.info({ memberId: installation.memberId }, 'app uninstalled with CLEAN=1: all portal data deleted');
    return 'cleaned';
  }
  if (installation.status === 'uninstalled') return 'already_uninstalled';
  await store.deleteTokens(installation.id);
  await store.setBindings(installation.id, []);
  await store.setStatus(installation.id, 'uninstalled', null);
  log.info(
    { memberId: installation.memberId, status: 'uninstalled' },
    'app uninstalled: tokens deleted, data kept',
  );
  return 'uninstalled';
}
