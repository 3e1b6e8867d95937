// parseForm (src/form.ts) takes fast-querystring's flat parse only where it is exactly what qs
// returns; these check that claim against qs itself, case by case and over random bodies built
// from the characters where the two parsers could part ways.
import fc from 'fast-check';
import qs from 'qs';
import { describe, expect, it } from 'vitest';
import { parseForm } from '../../src/form.js';

const qsParse = (body: string) =>
  qs.parse(body, { depth: 5, arrayLimit: 50, parameterLimit: 500, allowPrototypes: false, charset: 'utf-8' });

/** Own keys and values in order, whatever the prototype (the flat parse's is not Object.prototype). */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('parseForm', () => {
  it('a widget open is flat: fast-querystring’s object, not an Object, same entries as qs', () => {
    const body =
      'AUTH_ID=a1b2&AUTH_EXPIRES=3600&member_id=m1&PLACEMENT=LANDING_BLOCK_*&' +
      'PLACEMENT_OPTIONS=%7B%22ID%22%3A%2230%22%7D&DOMAIN=p.example.com&note=a+b%20c';
    const parsed = parseForm(body);
    expect(parsed instanceof Object).toBe(false);
    expect(plain(parsed)).toEqual(plain(qsParse(body)));
    expect(parsed.PLACEMENT_OPTIONS).toBe('{"ID":"30"}');
    expect(parsed.note).toBe('a b c');
  });

  it.each([
    [
      'bracketed keys',
      'auth[member_id]=m1&data[CLEAN]=1',
      { auth: { member_id: 'm1' }, data: { CLEAN: '1' } },
    ],
    ['percent-encoded brackets', 'auth%5Bmember_id%5D=m1', { auth: { member_id: 'm1' } }],
    ['lower-case encoding', 'auth%5bmember_id%5d=m1', { auth: { member_id: 'm1' } }],
    ['a repeated key', 'a=1&a=2', { a: ['1', '2'] }],
    ['an empty key', '=x&a=1', { a: '1' }],
    ['a prototype name', '__proto__=x&toString=y&hasOwnProperty=z&a=1', { a: '1' }],
    ['pieces past the limit', `${'&'.repeat(500)}a=1`, {}],
  ])('%s: qs’s answer', (_name, body, expected) => {
    const parsed = parseForm(body);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed).toEqual(expected);
    expect(parsed).toEqual(qsParse(body));
  });

  it.each([
    ['an invalid escape kept as sent', 'a=%E0%A4%A&b=%&c=%zz', { a: '%E0%A4%A', b: '%', c: '%zz' }],
    ['exactly 500 pieces: the last key kept', `${'&'.repeat(499)}a=1`, { a: '1' }],
  ])('%s: the flat parse, equal to qs’s', (_name, body, expected) => {
    const parsed = parseForm(body);
    expect(parsed instanceof Object).toBe(false);
    expect(plain(parsed)).toEqual(expected);
    expect(plain(parsed)).toEqual(plain(qsParse(body)));
  });

  it('equals qs on 20,000 random bodies of the characters that matter', () => {
    const piece = fc.oneof(
      fc.constantFrom('a', 'b', 'AUTH_ID', '__proto__', 'constructor', 'toString', ''),
      fc.constantFrom(
        '=',
        '&',
        '+',
        '%',
        '%2',
        '%20',
        '%3D',
        '%26',
        '%5B',
        '%5d',
        '[',
        ']',
        '.',
        '%E2%82%AC',
        '%C3',
        '%FF',
        'é',
        '€',
      ),
      fc.string({ maxLength: 3 }),
    );
    const body = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(body, (b) => {
        expect(plain(parseForm(b))).toEqual(plain(qsParse(b)));
      }),
      { numRuns: 20_000 },
    );
  });
});
