// One HTTP request to a portal's REST endpoint, and the answer (or error envelope) turned into
// a typed result or a typed Bitrix24Error. No retries here: the client decides.
import { bitrix24Error, TransientError, UnexpectedResponseError } from './errors.js';
import { type HttpAnswer, type HttpFetch, requestTimeout } from './http.js';
import type { ResponseTime } from './operating-limit.js';

export interface RestAnswer<T = unknown> {
  result: T;
  time?: ResponseTime;
  next?: number;
  total?: number;
}

export interface RestRequest {
  /** The installation's stored client endpoint, e.g. https://portal.bitrix24.com/rest/ */
  endpoint: string;
  method: string;
  params: Record<string, unknown>;
  accessToken: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Method names are dotted words; anything else could walk out of /rest/ in the URL. */
const METHOD_NAME = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

export function isValidMethodName(method: string): boolean {
  return METHOD_NAME.test(method);
}

/** The URL for `method` under the endpoint (which must end with /rest/ or similar). */
export function methodUrl(endpoint: string, method: string): string {
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  return new URL(`${method}.json`, base).toString();
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

function errorFields(body: Record<string, unknown>): { code: string; description: string } | null {
  const { error } = body;
  if (typeof error === 'string' && error !== '') {
    return {
      code: error,
      description: typeof body.error_description === 'string' ? body.error_description : '',
    };
  }
  // The code may be empty with only a description (b24restdocs _includes/error-info.md): keep the sentence.
  if (error === '' && typeof body.error_description === 'string' && body.error_description !== '') {
    return { code: '', description: body.error_description };
  }
  // REST v3 style: {"error":{"code":"...","message":"..."}}
  if (error && typeof error === 'object' && 'code' in error) {
    const e = error as { code: unknown; message?: unknown };
    return { code: String(e.code), description: typeof e.message === 'string' ? e.message : '' };
  }
  return null;
}

/** Sends one REST request (JSON body, `auth` in the body) and parses the envelope. */
export async function sendRestRequest(fetchImpl: HttpFetch, request: RestRequest): Promise<RestAnswer> {
  const { method } = request;
  // The timeout and the caller's signal as one signal, its timer cleared when the answer is read.
  const timeout = requestTimeout(request.timeoutMs, request.signal);
  let response: HttpAnswer;
  let text: string;
  try {
    response = await fetchImpl(methodUrl(request.endpoint, method), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...request.params, auth: request.accessToken }),
      signal: timeout.signal,
    });
    text = await response.text();
  } catch (cause) {
    if (request.signal?.aborted) throw request.signal.reason;
    const timedOut = timeout.timedOut();
    throw new TransientError({
      code: timedOut ? 'REQUEST_TIMEOUT' : 'NETWORK_ERROR',
      status: 0,
      description: timedOut ? `no answer within ${request.timeoutMs} ms` : 'network connection failed',
      method,
      cause,
    });
  } finally {
    timeout.dispose();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const init = {
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: response.status,
      description: `answer is not JSON (HTTP ${response.status})`,
      method,
    };
    throw response.status >= 500 || response.status === 0
      ? new TransientError(init)
      : new UnexpectedResponseError(init);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new UnexpectedResponseError({
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: response.status,
      description: 'answer is not a JSON object',
      method,
    });
  }
  const envelope = body as Record<string, unknown>;
  const failure = errorFields(envelope);
  if (failure) throw bitrix24Error({ ...failure, status: response.status, method });
  if (!response.ok || !('result' in envelope)) {
    throw bitrix24Error({
      code: response.ok ? 'ERROR_UNEXPECTED_ANSWER' : `HTTP_${response.status}`,
      status: response.ok ? 500 : response.status,
      description: response.ok ? 'answer has no result' : `HTTP ${response.status} without an error code`,
      method,
    });
  }
  return {
    result: envelope.result,
    time: envelope.time && typeof envelope.time === 'object' ? (envelope.time as ResponseTime) : undefined,
    next: asNumber(envelope.next),
    total: asNumber(envelope.total),
  };
}
