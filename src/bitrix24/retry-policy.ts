// Which failures are worth another attempt, and how many.
import type { Bitrix24Error } from './errors.js';

export interface RetryOptions {
  /** Attempts in all for a read (idempotent) method on a transient failure. */
  readAttempts?: number;
  /** Attempts in all for other methods: small, because the first may have taken effect. */
  writeAttempts?: number;
  /** Extra attempts after QUERY_LIMIT_EXCEEDED (the request was refused, so it is safe to repeat). */
  rateLimitRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  rateLimitBaseDelayMs?: number;
  rateLimitMaxDelayMs?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryOptions = {
  readAttempts: 4,
  writeAttempts: 2,
  rateLimitRetries: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  rateLimitBaseDelayMs: 500,
  rateLimitMaxDelayMs: 8_000,
};

/** Last name segments of methods that only read: `.get`, `.list`, `getList`, `info`, `current`... */
const READ_SEGMENT = /^(get[a-z0-9_]*|list|info|current|fields|count|search)$/i;

export function isReadMethod(method: string): boolean {
  const last = method.slice(method.lastIndexOf('.') + 1);
  return READ_SEGMENT.test(last);
}

/** Codes after which the token is renewed once and the call repeated. */
const TOKEN_REJECTED = new Set(['expired_token', 'invalid_token', 'NO_AUTH_FOUND']);

export function isTokenRejected(error: Bitrix24Error): boolean {
  return error.kind === 'auth' && TOKEN_REJECTED.has(error.code);
}

export function isQueryLimit(error: Bitrix24Error): boolean {
  return error.code === 'QUERY_LIMIT_EXCEEDED';
}

/** Transient failures (5xx, network, timeout) are retried; OVERLOAD_LIMIT is a manual block and is not. */
export function isRetryableFailure(error: Bitrix24Error): boolean {
  return error.kind === 'transient';
}
