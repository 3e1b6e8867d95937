import { sameSecret } from '../installations/uninstall.js';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string | null | undefined, expected: string): boolean {
  return typeof presented === 'string' && presented !== '' && sameSecret(presented, expected);
}
