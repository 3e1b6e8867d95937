import { Errors, type RestError } from '../errors.js';
import type { AppInstallation } from '../types.js';
import type { AuthInfo } from './types.js';

/** The app's installation, or the given error for webhooks (no application context). */
export function requireApp(auth: AuthInfo, error: () => RestError): AppInstallation {
  if (auth.kind !== 'app' || !auth.installation) throw error();
  return auth.installation;
}

export function requireAdmin(auth: AuthInfo, error: () => RestError = () => Errors.adminRequired()): void {
  if (!auth.user.admin) throw error();
}

/** Creating/changing sites needs more than the View right ordinary users have. */
export function requireLandingWrite(auth: AuthInfo): void {
  if (auth.user.landingRights !== 'full' && !auth.user.admin) throw Errors.landingAccessDenied();
}
