// Nothing this module logs may carry a token or secret: parameters and URLs pass through here.

const SECRET_KEYS = new Set([
  'auth',
  'auth_id',
  'refresh_id',
  'access_token',
  'refresh_token',
  'client_secret',
  'application_token',
  'accesstoken',
  'refreshtoken',
  'clientsecret',
  'password',
  'token',
]);

const SECRET_IN_QUERY = /([?&](?:auth|access_token|refresh_token|client_secret|application_token)=)[^&#]*/gi;

export const REDACTED = '[redacted]';

/** A copy of `value` with secret-looking keys replaced, to any depth (cycles cut). */
export function redactSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return value.replace(SECRET_IN_QUERY, `$1${REDACTED}`);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactSecrets(item, seen);
  }
  return out;
}

/** A URL without its query values for secrets. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_IN_QUERY, `$1${REDACTED}`);
}
