// Form bodies as Bitrix24 posts them. Events carry PHP-style bracketed keys (`auth[access_token]`,
// `data[CLEAN]`), which qs builds into nested objects, with prototype keys never assigned and
// depth and sizes bounded. Widget opens and our own forms are flat: for those, fast-querystring
// (Fastify's own query parser) gives the same result for a third of the time (qs was 8 % of a
// warm widget open's CPU). Whenever its answer could differ from qs's, qs decides.
import fastQuerystring from 'fast-querystring';
import qs from 'qs';

const QS_OPTIONS = {
  depth: 5,
  arrayLimit: 50,
  parameterLimit: 500,
  allowPrototypes: false,
  charset: 'utf-8',
} as const;

/** A bracket, raw or percent-encoded, is where qs starts nesting. */
const BRACKET = /[[\]]|%5[bd]/i;

/** qs reads only the first `parameterLimit` pieces between `&`s, empty ones included. */
function overLimit(body: string): boolean {
  // A shortcut only: fewer characters than the limit cannot hold more `&`s than it.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, as above
  if (body.length < QS_OPTIONS.parameterLimit) return false;
  let pieces = 1;
  for (let at = body.indexOf('&'); at !== -1; at = body.indexOf('&', at + 1))
    if (++pieces > QS_OPTIONS.parameterLimit) return true;
  return false;
}

/**
 * The flat parse, if it is what qs would return: no repeated key (qs makes arrays), no empty key
 * and no Object.prototype name (qs drops both).
 */
function flatLikeQs(body: string): Record<string, unknown> | undefined {
  const parsed = fastQuerystring.parse(body) as Record<string, unknown>;
  for (const key in parsed) {
    if (key === '' || Object.hasOwn(Object.prototype, key) || typeof parsed[key] !== 'string')
      return undefined;
  }
  return parsed;
}

/** The form as qs parses it with QS_OPTIONS (a flat parse's object does not inherit from Object). */
export function parseForm(body: string): Record<string, unknown> {
  return (!BRACKET.test(body) && !overLimit(body) && flatLikeQs(body)) || qs.parse(body, QS_OPTIONS);
}
