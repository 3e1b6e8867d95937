// Bitrix24 failures as typed classes. Callers decide by class (or `kind`), never by
// matching message text: retry later, re-authenticate, reinstall, fix the call, or give up.

export type Bitrix24ErrorKind =
  /** Too many requests or the method's time budget is spent: retry later. */
  | 'rate_limit'
  /** Server fault, network failure or timeout: retrying may succeed. */
  | 'transient'
  /** The token was rejected; a new token (refresh or a fresh widget open) is needed. */
  | 'auth'
  /** The app lost its grant or the portal is gone: only a reinstall helps. */
  | 'reinstall'
  /** The call itself is wrong (missing or bad parameters, unknown method, bad batch). */
  | 'parameter'
  /** The caller may not do this (rights, scope, plan, app access). */
  | 'access'
  /** The answer did not have the documented shape. */
  | 'unexpected';

export interface Bitrix24ErrorInit {
  code: string;
  /** HTTP status of the answer; 0 when no answer arrived (network error, timeout, client-side check). */
  status: number;
  description: string;
  /** The REST method (or `oauth/token` for the OAuth server). */
  method: string;
  /** For rate limits: when to try again, if known. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class Bitrix24Error extends Error {
  readonly kind: Bitrix24ErrorKind = 'unexpected';
  readonly code: string;
  readonly status: number;
  readonly description: string;
  readonly method: string;
  readonly retryAfterMs: number | undefined;

  constructor(init: Bitrix24ErrorInit) {
    super(`${init.method}: ${init.code}${init.description ? ` (${init.description})` : ''}`, {
      cause: init.cause,
    });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.description = init.description;
    this.method = init.method;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** What a log line shows: no description (it may echo parameters) and nothing secret. */
  toJSON() {
    return { name: this.name, kind: this.kind, code: this.code, status: this.status, method: this.method };
  }
}

export class RateLimitError extends Bitrix24Error {
  override readonly kind = 'rate_limit';
}
export class TransientError extends Bitrix24Error {
  override readonly kind = 'transient';
}
export class AuthError extends Bitrix24Error {
  override readonly kind = 'auth';
}
export class ReinstallRequiredError extends Bitrix24Error {
  override readonly kind = 'reinstall';
}
/**
 * The OAuth server refuses the app for this portal until its subscription is paid
 * (`PAYMENT_REQUIRED`): as terminal as a lost grant (nothing is retried), but the portal's
 * administrator has to pay, not reinstall, so pages tell them apart (403 `payment_required`).
 */
export class PaymentRequiredError extends ReinstallRequiredError {}
export class ParameterError extends Bitrix24Error {
  override readonly kind = 'parameter';
}
export class AccessError extends Bitrix24Error {
  override readonly kind = 'access';
}
export class UnexpectedResponseError extends Bitrix24Error {
  override readonly kind = 'unexpected';
}

type ErrorClass = new (init: Bitrix24ErrorInit) => Bitrix24Error;

/**
 * Every code the seeds' tables and the protocol notes list, plus a few Bitrix24 answers that
 * commonly appear next to them. Lookup is exact first (Bitrix24 mixes `expired_token` and
 * `ACCESS_DENIED`), then upper-cased.
 */
const CLASS_BY_CODE = {
  // retry later
  QUERY_LIMIT_EXCEEDED: RateLimitError,
  OVERLOAD_LIMIT: RateLimitError,
  OPERATION_TIME_LIMIT: RateLimitError,
  // server faults
  INTERNAL_SERVER_ERROR: TransientError,
  ERROR_UNEXPECTED_ANSWER: TransientError,
  NETWORK_ERROR: TransientError,
  REQUEST_TIMEOUT: TransientError,
  temporarily_unavailable: TransientError,
  server_error: TransientError,
  // token rejected
  NO_AUTH_FOUND: AuthError,
  expired_token: AuthError,
  invalid_token: AuthError,
  invalid_client: AuthError,
  // grant or portal lost
  invalid_grant: ReinstallRequiredError,
  PORTAL_DELETED: ReinstallRequiredError,
  APPLICATION_NOT_FOUND: ReinstallRequiredError,
  // forbidden
  ACCESS_DENIED: AccessError,
  ACCESS_DENIED_DELETED: AccessError,
  INVALID_CREDENTIALS: AccessError,
  insufficient_scope: AccessError,
  user_access_error: AccessError,
  allowed_only_intranet_user: AccessError,
  PAYMENT_REQUIRED: AccessError,
  WRONG_AUTH_TYPE: AccessError,
  TOTAL_SITE_REACHED: AccessError,
  // the call is wrong. SYSTEM_ERROR ("internal error during execution") comes with HTTP 400
  // and in practice from bad filters/selects: repeating the same call will not help.
  SYSTEM_ERROR: ParameterError,
  INVALID_REQUEST: ParameterError,
  MISSING_PARAMS: ParameterError,
  TYPE_ERROR: ParameterError,
  ERROR_ARGUMENT: ParameterError,
  ArgumentNullException: ParameterError,
  ArgumentException: ParameterError,
  ERROR_METHOD_NOT_FOUND: ParameterError,
  ERROR_MANIFEST_IS_NOT_AVAILABLE: ParameterError,
  ERROR_BATCH_METHOD_NOT_ALLOWED: ParameterError,
  ERROR_BATCH_LENGTH_EXCEEDED: ParameterError,
  PLACEMENT_UNKNOWN: ParameterError,
  PLACEMENT_HANDLER_INVALID: ParameterError,
  PLACEMENT_EXIST: ParameterError,
  PLACEMENT_NO_EXIST: ParameterError,
  LANDING_NOT_EXIST: ParameterError,
  SITE_NOT_FOUND: ParameterError,
  ERROR_EVENT_NOT_FOUND: ParameterError,
  ERROR_WRONG_HANDLER_URL: ParameterError,
  ERROR_HANDLER_ALREADY_EXIST: ParameterError,
  SLASH_IS_NOT_ALLOWED: ParameterError,
  // Named by the docs of the methods we call (test/placements/fixtures/documented-error-codes.ts).
  AccessException: AccessError,
  invalid_scope: AccessError,
  invalid_request: ParameterError,
  unsupported_grant_type: ParameterError,
  ERROR_CORE: ParameterError,
  ERROR_HANDLER_URL_MATCH: ParameterError,
  ERROR_UNSUPPORTED_PROTOCOL: ParameterError,
  // client-side checks
  INVALID_PARAMS: ParameterError,
  BATCH_REFERENCE_SPLIT: ParameterError,
} as const satisfies Record<string, ErrorClass>;

/** A code Bitrix24 (or this client) is known to answer. */
export type Bitrix24ErrorCode = keyof typeof CLASS_BY_CODE;

/** Every known code, so callers can name one (`error.code === B24_ERROR_CODES.PLACEMENT_EXIST`) without a typo. */
export const B24_ERROR_CODES = Object.fromEntries(Object.keys(CLASS_BY_CODE).map((c) => [c, c])) as {
  readonly [K in Bitrix24ErrorCode]: K;
};

const byCode: Record<string, ErrorClass | undefined> = CLASS_BY_CODE;

function classFor(code: string, status: number): ErrorClass {
  const known = byCode[code] ?? byCode[code.toUpperCase()];
  if (known) return known;
  if (code.startsWith('PLACEMENT_')) return ParameterError;
  // Unknown codes: fall back on the HTTP status.
  if (status === 401) return AuthError;
  if (status === 403) return AccessError;
  if (status === 429) return RateLimitError;
  if (status === 503 || status >= 500 || status === 0) return TransientError;
  if (status >= 400) return ParameterError;
  return UnexpectedResponseError;
}

/** The typed error for a Bitrix24 (REST or OAuth) error answer. */
export function bitrix24Error(init: Bitrix24ErrorInit): Bitrix24Error {
  const Class = classFor(init.code, init.status);
  return new Class(init);
}

export function isBitrix24Error(error: unknown): error is Bitrix24Error {
  return error instanceof Bitrix24Error;
}
