import type { EmulatorContext } from './context.js';
import { Errors, RestError } from './errors.js';
import type { AuthInfo } from './methods/types.js';
import { isPlainObject, type Params, param, parsePhpQuery, truthy } from './params.js';
import { type RestTime, runMethod } from './rest-core.js';
import type { PortalState } from './types.js';

export const MAX_BATCH = 50;

interface BatchState {
  result: Map<string, unknown>;
  result_error: Map<string, unknown>;
  result_total: Map<string, number>;
  result_next: Map<string, number>;
  result_time: Map<string, RestTime>;
}

const REF = /\$(result|result_error|result_total|result_next|result_time)\[([^\]]+)\]((?:\[[^\]]*\])*)/g;

function lookup(state: BatchState, kind: string, name: string, path: string): unknown {
  let v: unknown = state[kind as keyof BatchState].get(name);
  for (const m of path.matchAll(/\[([^\]]*)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[m[1] ?? ''];
  }
  return v;
}

/** `$result[name][field]` references: a value that is exactly one reference takes the referenced value itself. */
function substitute(value: unknown, state: BatchState): unknown {
  if (typeof value === 'string') {
    const whole = new RegExp(`^${REF.source}$`).exec(value);
    if (whole) return lookup(state, whole[1] ?? '', whole[2] ?? '', whole[3] ?? '') ?? '';
    return value.replace(REF, (_m, kind: string, name: string, path: string) => {
      const v = lookup(state, kind, name, path);
      return v === undefined || v === null || typeof v === 'object' ? '' : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, state));
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, state)]));
  return value;
}

/** PHP arrays serialise as lists when keyed 0..n-1 (and [] when empty), objects otherwise. */
function phpArray(map: Map<string, unknown>): unknown {
  const keys = [...map.keys()];
  if (keys.every((k, i) => k === String(i))) return [...map.values()];
  return Object.fromEntries(map);
}

export function runBatch(ctx: EmulatorContext, portal: PortalState, auth: AuthInfo, params: Params): unknown {
  const cmd = param(params, 'cmd');
  const halt = truthy(param(params, 'halt'));
  const entries: [string, unknown][] = Array.isArray(cmd)
    ? cmd.map((v, i) => [String(i), v])
    : isPlainObject(cmd)
      ? Object.entries(cmd)
      : [];
  // At most 50 commands run (settings/how-to-call-rest-api/batch.md: "limited to 50"); each
  // extra one fails alone with ERROR_BATCH_LENGTH_EXCEEDED (assumed: the docs do not say how).
  const overflow = entries.splice(MAX_BATCH);
  const state: BatchState = {
    result: new Map(),
    result_error: new Map(),
    result_total: new Map(),
    result_next: new Map(),
    result_time: new Map(),
  };
  for (const [name, raw] of entries) {
    const text = String(raw ?? '');
    const q = text.indexOf('?');
    const method = (q === -1 ? text : text.slice(0, q)).trim();
    const query = substitute(parsePhpQuery(q === -1 ? '' : text.slice(q + 1)), state) as Params;
    delete query.auth;
    try {
      if (method.toLowerCase() === 'batch') throw Errors.batchNotAllowed();
      const out = runMethod(ctx, portal, auth, method, query);
      state.result.set(name, out.result);
      if (out.total !== undefined) state.result_total.set(name, out.total);
      if (out.next !== undefined) state.result_next.set(name, out.next);
      state.result_time.set(name, out.time);
    } catch (e) {
      if (!(e instanceof RestError)) throw e;
      state.result_error.set(name, e.toJSON());
      if (halt) break;
    }
  }
  if (!(halt && state.result_error.size > 0)) {
    for (const [name] of overflow) state.result_error.set(name, Errors.batchLength().toJSON());
  }
  return {
    result: phpArray(state.result),
    result_error: phpArray(state.result_error),
    result_total: phpArray(state.result_total),
    result_next: phpArray(state.result_next),
    result_time: phpArray(state.result_time),
  };
}
