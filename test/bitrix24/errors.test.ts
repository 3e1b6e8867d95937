// The mapping from every code in the seeds' tables (and the protocol notes) to an error class.
// Codes the emulator can produce are also checked end to end in client-errors.test.ts.
import { describe, expect, it } from 'vitest';
import {
  AccessError,
  AuthError,
  Bitrix24Error,
  bitrix24Error,
  ParameterError,
  RateLimitError,
  ReinstallRequiredError,
  TransientError,
} from '../../src/bitrix24/errors.js';

const CASES: [code: string, status: number, cls: typeof Bitrix24Error, kind: string][] = [
  ['QUERY_LIMIT_EXCEEDED', 503, RateLimitError, 'rate_limit'],
  ['OVERLOAD_LIMIT', 503, RateLimitError, 'rate_limit'],
  ['OPERATION_TIME_LIMIT', 429, RateLimitError, 'rate_limit'],
  ['INTERNAL_SERVER_ERROR', 500, TransientError, 'transient'],
  ['ERROR_UNEXPECTED_ANSWER', 500, TransientError, 'transient'],
  ['SYSTEM_ERROR', 400, ParameterError, 'parameter'],
  ['PORTAL_DELETED', 500, ReinstallRequiredError, 'reinstall'],
  ['invalid_grant', 400, ReinstallRequiredError, 'reinstall'],
  ['NO_AUTH_FOUND', 401, AuthError, 'auth'],
  ['expired_token', 401, AuthError, 'auth'],
  ['invalid_token', 401, AuthError, 'auth'],
  ['insufficient_scope', 403, AccessError, 'access'],
  ['ACCESS_DENIED', 403, AccessError, 'access'],
  ['ACCESS_DENIED', 400, AccessError, 'access'],
  ['INVALID_CREDENTIALS', 403, AccessError, 'access'],
  ['user_access_error', 403, AccessError, 'access'],
  ['ACCESS_DENIED_DELETED', 400, AccessError, 'access'],
  ['WRONG_AUTH_TYPE', 401, AccessError, 'access'],
  ['ERROR_MANIFEST_IS_NOT_AVAILABLE', 404, ParameterError, 'parameter'],
  ['ERROR_BATCH_METHOD_NOT_ALLOWED', 405, ParameterError, 'parameter'],
  ['ERROR_BATCH_LENGTH_EXCEEDED', 400, ParameterError, 'parameter'],
  ['INVALID_REQUEST', 400, ParameterError, 'parameter'],
  ['MISSING_PARAMS', 400, ParameterError, 'parameter'],
  ['TYPE_ERROR', 400, ParameterError, 'parameter'],
  ['ArgumentNullException', 400, ParameterError, 'parameter'],
  ['PLACEMENT_UNKNOWN', 400, ParameterError, 'parameter'],
  ['PLACEMENT_HANDLER_INVALID', 400, ParameterError, 'parameter'],
  ['PLACEMENT_EXIST', 400, ParameterError, 'parameter'],
  ['PLACEMENT_NO_EXIST', 400, ParameterError, 'parameter'],
  ['PLACEMENT_SOMETHING_NEW', 400, ParameterError, 'parameter'],
  ['ERROR_METHOD_NOT_FOUND', 404, ParameterError, 'parameter'],
  // Unknown codes fall back on the HTTP status.
  ['SOMETHING_ELSE', 401, AuthError, 'auth'],
  ['SOMETHING_ELSE', 403, AccessError, 'access'],
  ['SOMETHING_ELSE', 502, TransientError, 'transient'],
  ['SOMETHING_ELSE', 400, ParameterError, 'parameter'],
];

describe('bitrix24Error', () => {
  it.each(CASES)('%s (HTTP %i) → %o', (code, status, cls, kind) => {
    const error = bitrix24Error({ code, status, description: 'text', method: 'landing.repo.bind' });
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(Bitrix24Error);
    expect(error.kind).toBe(kind);
    expect(error).toMatchObject({ code, status, description: 'text', method: 'landing.repo.bind' });
    expect(error.message).toContain(code);
  });

  it('serialises without the description', () => {
    const error = bitrix24Error({
      code: 'MISSING_PARAMS',
      status: 400,
      description: 'secret-ish',
      method: 'x.y',
    });
    expect(JSON.stringify(error)).not.toContain('secret-ish');
  });
});
