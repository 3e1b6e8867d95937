// One request to a Bitrix24 OAuth server, shared by the refresh grant and the token inspection:
// its JSON answer, or a typed Bitrix24 error (transport, not JSON, an `error` object, a 5xx).
// Error texts never carry the URL: it may hold the client secret and a refresh token.
import { type Bitrix24Error, type Bitrix24ErrorInit, TransientError } from '../bitrix24/errors.js';
import { type HttpFetch, type HttpRequestInit, requestTimeout } from '../bitrix24/http.js';

export interface OAuthRequest {
  /** The error's `method` label (`oauth/token`, `oauth/app.info`). */
  method: string;
  /** Named in the texts of a timeout and a non-JSON answer (`app.info`); none for the token endpoint. */
  call?: string;
  timeoutMs: number;
  fetch?: HttpFetch;
  /** Turns the server's `{error, error_description}` into the caller's error class. */
  toError(init: Bitrix24ErrorInit): Bitrix24Error;
}

export async function requestOAuthJson(
  url: URL,
  init: Omit<HttpRequestInit, 'signal'>,
  request: OAuthRequest,
): Promise<{ status: number; body: unknown }> {
  const { method, call, timeoutMs } = request;
  let status: number;
  let text: string;
  const timeout = requestTimeout(timeoutMs);
  try {
    const response = await (request.fetch ?? fetch)(url.toString(), { ...init, signal: timeout.signal });
    status = response.status;
    text = await response.text();
  } catch (cause) {
    const timedOut = timeout.timedOut() || (cause instanceof Error && cause.name === 'TimeoutError');
    throw new TransientError({
      code: timedOut ? 'REQUEST_TIMEOUT' : 'NETWORK_ERROR',
      status: 0,
      description: timedOut
        ? `OAuth server did not answer${call ? ` ${call}` : ''} within ${timeoutMs} ms`
        : 'OAuth server unreachable',
      method,
    });
  } finally {
    timeout.dispose();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TransientError({
      code: 'ERROR_UNEXPECTED_ANSWER',
      status,
      description: `OAuth answer${call ? ` to ${call}` : ''} is not JSON (HTTP ${status})`,
      method,
    });
  }
  // Reading a field of any JSON value but null is safe (a string or number has none).
  const fields = (body ?? {}) as { error?: unknown; error_description?: unknown };
  if (typeof fields.error === 'string') {
    throw request.toError({
      code: fields.error,
      status,
      description: typeof fields.error_description === 'string' ? fields.error_description : '',
      method,
    });
  }
  if (status >= 500) {
    throw new TransientError({ code: `HTTP_${status}`, status, description: 'OAuth server error', method });
  }
  return { status, body };
}
