import qs from 'qs';
import { Errors } from './errors.js';

/** PHP-style parsing: `fields[PLACEMENT]=X&a[]=1` → {fields:{PLACEMENT:'X'}, a:['1']}, as $_REQUEST sees it. */
const QS_OPTIONS = { depth: 10, arrayLimit: 1000, parameterLimit: 10000, allowDots: false } as const;

export type Params = Record<string, unknown>;

export const parsePhpQuery = (s: string): Params => qs.parse(s, QS_OPTIONS) as Params;

/** PHP http_build_query style encoding (brackets percent-encoded), used for event POSTs. */
export const buildPhpQuery = (obj: Params): string => qs.stringify(obj, { encodeValuesOnly: false });

export const isPlainObject = (v: unknown): v is Params =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Top-level REST parameters are matched case-insensitively, as Bitrix24 does for most methods. */
export function param(params: Params, name: string): unknown {
  if (name in params) return params[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(params)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null || v === '';

export function required(params: Params, name: string): unknown {
  const v = param(params, name);
  if (isEmpty(v)) throw Errors.missing(name);
  return v;
}

/** Integer parameter (numbers or numeric strings); anything else is a TYPE_ERROR. */
export function intParam(params: Params, name: string, opts: { required: true }): number;
export function intParam(params: Params, name: string, opts?: { required?: boolean }): number | undefined;
export function intParam(
  params: Params,
  name: string,
  opts: { required?: boolean } = {},
): number | undefined {
  const v = opts.required ? required(params, name) : param(params, name);
  if (isEmpty(v)) return undefined;
  const n = toInt(v);
  if (n === undefined) throw Errors.typeError(name);
  return n;
}

export function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number.parseInt(v, 10);
  return undefined;
}

/** PHP truthiness for flags passed as true/"Y"/1/"1". */
export const truthy = (v: unknown): boolean =>
  v === true || v === 1 || (typeof v === 'string' && ['1', 'y', 'true'].includes(v.toLowerCase()));

/** A flag switched off: false/0/"0"/"N"/"false"/"" (PHP's boolean reading of REST parameters). */
export const falsy = (v: unknown): boolean =>
  v === false ||
  v === 0 ||
  v === null ||
  (typeof v === 'string' && ['', '0', 'n', 'false'].includes(v.trim().toLowerCase()));

/** JSON the way PHP's json_encode writes it (escaped slashes), for PLACEMENT_OPTIONS. */
export const phpJson = (v: unknown): string => JSON.stringify(v).replace(/\//g, '\\/');
