import { RestError } from '../errors.js';
import { isPlainObject, type Params } from '../params.js';

type Row = Record<string, unknown>;

const unknownField = (f: string) => new RestError(400, 'SYSTEM_ERROR', `Unknown field definition \`${f}\``);

const asText = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function compare(a: unknown, b: unknown): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return asText(a).localeCompare(asText(b));
}

function matches(op: string, actual: unknown, expected: unknown): boolean {
  const list = Array.isArray(expected) ? expected : [expected];
  switch (op) {
    case '':
    case '=':
      return list.some((e) => asText(e) === asText(actual));
    case '!':
    case '!=':
      return !list.some((e) => asText(e) === asText(actual));
    case '%':
      return list.some((e) => asText(actual).toLowerCase().includes(asText(e).toLowerCase()));
    case '>':
      return compare(actual, expected) > 0;
    case '>=':
      return compare(actual, expected) >= 0;
    case '<':
      return compare(actual, expected) < 0;
    case '<=':
      return compare(actual, expected) <= 0;
    default:
      return false;
  }
}

/** ORM-style filter: keys may carry an operator prefix (=, !, !=, %, >, >=, <, <=); arrays mean "any of". */
export function applyFilter(rows: Row[], filter: unknown, fields: readonly string[]): Row[] {
  if (!isPlainObject(filter)) return rows;
  let out = rows;
  for (const [rawKey, expected] of Object.entries(filter)) {
    const m = /^(>=|<=|!=|=|!|%|>|<)?(.+)$/.exec(rawKey);
    const op = m?.[1] ?? '';
    const field = (m?.[2] ?? rawKey).toUpperCase();
    if (!fields.includes(field)) throw unknownField(field);
    out = out.filter((r) => matches(op, r[field], expected));
  }
  return out;
}

export function applyOrder(rows: Row[], order: unknown, fields: readonly string[]): Row[] {
  if (!isPlainObject(order)) return rows;
  const keys = Object.entries(order).map(([f, dir]) => {
    const field = f.toUpperCase();
    if (!fields.includes(field)) throw unknownField(field);
    return { field, sign: asText(dir).toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const c = compare(a[k.field], b[k.field]);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  });
}

/** `select` defaults to ["*"]; `always` fields are added as Bitrix24 does (ID, TYPE for sites). */
export function applySelect(
  rows: Row[],
  select: unknown,
  fields: readonly string[],
  always: string[],
): Row[] {
  const list = Array.isArray(select) ? select.map((s) => asText(s).toUpperCase()) : ['*'];
  if (list.includes('*')) return rows;
  const wanted = [...new Set([...always, ...list])];
  for (const f of wanted) if (!fields.includes(f)) throw unknownField(f);
  return rows.map((r) => Object.fromEntries(wanted.map((f) => [f, r[f]])));
}

/** Runs filter → order → limit/offset → select over rows that carry every field (extras computed on demand). */
export function listQuery(
  rows: Row[],
  params: Params,
  opts: { fields: readonly string[]; base: readonly string[]; always: string[] },
): Row[] {
  let out = applyFilter(rows, params.filter, opts.fields);
  out = applyOrder(out, params.order, opts.fields);
  const offset = Number(params.offset ?? 0) || 0;
  const limit = Number(params.limit ?? 0) || 0;
  out = out.slice(offset, limit > 0 ? offset + limit : undefined);
  if (!Array.isArray(params.select) || params.select.includes('*')) {
    return out.map((r) => Object.fromEntries(opts.base.map((f) => [f, r[f]])));
  }
  return applySelect(out, params.select, opts.fields, opts.always);
}

/** DELETED=N unless the caller filters on DELETED itself. */
export function withDefaultDeleted(filter: unknown): Params {
  const f: Params = isPlainObject(filter) ? { ...filter } : {};
  const mentions = Object.keys(f).some((k) => k.replace(/^[=!%<>]+/, '').toUpperCase() === 'DELETED');
  if (!mentions) f['=DELETED'] = 'N';
  return f;
}
