// Counts what the app sends to Bitrix24 by wrapping the fetch the REST client and the token
// manager use: REST calls by method and outcome, OAuth refreshes, 503s and refused tokens. It
// reads each answer's text once and hands the caller an answer holding that same text, so
// callers see exactly what they would without it.
import { bitrix24Error } from '../bitrix24/errors.js';
import type { HttpAnswer, HttpFetch } from '../bitrix24/http.js';
import type { AppMetrics } from './metrics.js';

type Target = { kind: 'oauth' } | { kind: 'rest'; method: string } | { kind: 'other' };

/** Error codes come from the remote side: anything odd is folded into one label value. */
const LABEL = /^[A-Za-z0-9_.]{1,64}$/;
const label = (value: string, fallback: string) => (LABEL.test(value) ? value : fallback);

function targetOf(url: URL): Target {
  if (/\/oauth\/token\/?$/.test(url.pathname)) return { kind: 'oauth' };
  const rest = /\/rest\/(?:.*\/)?([^/]+)\.json$/.exec(url.pathname);
  if (rest) return { kind: 'rest', method: label(rest[1]!.toLowerCase(), 'invalid') };
  return { kind: 'other' };
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `ok`, the error code of a Bitrix24 error envelope, or `http_<status>` for other failures. */
function outcomeOf(status: number, body: unknown): string {
  const { error } = record(body);
  if (typeof error === 'string' && error) return label(error, 'other_error');
  const nested = record(error).code;
  if (nested !== undefined) return label(String(nested), 'other_error');
  return status >= 400 ? `http_${status}` : 'ok';
}

/** Refused tokens are the codes Bitrix24Error classifies as auth or reinstall. */
function isTokenError(code: string, status: number): boolean {
  const { kind } = bitrix24Error({ code, status, description: '', method: '' });
  return kind === 'auth' || kind === 'reinstall';
}

/** The `cmd` of a batch request body: command name → method. */
function batchMethods(body: unknown): Map<string, string> {
  const methods = new Map<string, string>();
  if (typeof body !== 'string') return methods;
  try {
    for (const [name, command] of Object.entries(record(record(JSON.parse(body)).cmd))) {
      if (typeof command === 'string')
        methods.set(name, label(command.split('?')[0]!.toLowerCase(), 'invalid'));
    }
  } catch {
    // Not JSON: nothing to attribute.
  }
  return methods;
}

/** PHP answers a list keyed 0..n-1 as a JSON array: key it again. */
function keyed(value: unknown): Record<string, unknown> {
  return Array.isArray(value) ? Object.fromEntries(value.map((v, i) => [String(i), v])) : record(value);
}

function countBatch(metrics: AppMetrics, requestBody: unknown, answer: unknown): void {
  const result = record(record(answer).result);
  const done = keyed(result.result);
  const failed = keyed(result.result_error);
  for (const [name, method] of batchMethods(requestBody)) {
    const error = failed[name];
    const outcome =
      error !== undefined
        ? label(typeof error === 'string' ? error : String(record(error).error ?? ''), 'other_error')
        : name in done
          ? 'ok'
          : 'not_run';
    metrics.batchCommands.inc({ method, outcome });
  }
}

export function countingFetch(metrics: AppMetrics, inner: HttpFetch = fetch): HttpFetch {
  return async (url, init) => {
    const target = targetOf(new URL(url));
    if (target.kind === 'other') return inner(url, init);
    const count = (outcome: string) =>
      target.kind === 'oauth'
        ? metrics.tokenRefreshes.inc({ outcome })
        : metrics.restRequests.inc({ method: target.method, outcome });
    let response: HttpAnswer;
    let text: string;
    try {
      response = await inner(url, init);
      text = await response.text();
    } catch (error) {
      // No answer, or its body failed (an abort while reading counts here too).
      count('network_error');
      throw error;
    }
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the status alone decides.
    }
    const outcome = outcomeOf(response.status, body);
    count(outcome);
    if (response.status === 503) metrics.responses503.inc({ target: target.kind });
    if (outcome !== 'ok' && !outcome.startsWith('http_') && isTokenError(outcome, response.status)) {
      metrics.tokenErrors.inc({ code: outcome });
    }
    if (target.kind === 'rest' && target.method === 'batch' && outcome === 'ok') {
      countBatch(metrics, init.body, body);
    }
    const { status, ok, headers } = response;
    return { status, ok, headers, text: () => Promise.resolve(text) };
  };
}
