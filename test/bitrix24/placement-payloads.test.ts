// PlacementPayloads (src/bitrix24/placement-payloads.ts) keeps a portal's validated fields by their
// text and validates only the session's on a repeat. Its claim: every answer is
// placementPayloadSchema's own, the same data or the same 400, whatever it has seen before; and it
// keeps no token.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePayload, placementPayloadSchema } from '../../src/bitrix24/payloads.js';
import { PlacementPayloads } from '../../src/bitrix24/placement-payloads.js';
import { AppError } from '../../src/errors.js';

const widget: Record<string, string> = {
  DOMAIN: 'Portal.Example.com',
  PROTOCOL: '1',
  LANG: 'ru',
  AUTH_ID: 'auth0123456789',
  AUTH_EXPIRES: '3600',
  REFRESH_ID: 'refresh0123456789',
  member_id: 'a223c6b3710f85df',
  PLACEMENT: 'LANDING_BLOCK_*',
  PLACEMENT_OPTIONS: '{"ID":"30","LID":"7"}',
};

/** What a reader answers: the parsed payload, or the refusal's code and message. */
function answer(read: () => unknown): unknown {
  try {
    return { ok: read() };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { status: error.statusCode, code: error.code, message: error.message, details: error.details };
  }
}
const bySchema = (input: Record<string, string>) =>
  answer(() => parsePayload(placementPayloadSchema, input, 'widget request'));

describe('PlacementPayloads', () => {
  it('a repeat with another session: the schema’s data, the portal’s fields shared and frozen', () => {
    const payloads = new PlacementPayloads();
    const first = payloads.read(widget);
    const second = { ...widget, AUTH_ID: 'another0123456789', AUTH_EXPIRES: '1800' };
    expect(payloads.read(second)).toEqual(parsePayload(placementPayloadSchema, second, 'widget request'));
    expect(payloads.read(second).PLACEMENT_OPTIONS).toBe(first.PLACEMENT_OPTIONS);
    expect(Object.isFrozen(first.PLACEMENT_OPTIONS)).toBe(true);
    expect(payloads.size).toBe(1);
  });

  it('keeps no token: the kept fields are the portal’s only', () => {
    const payloads = new PlacementPayloads();
    payloads.read(widget);
    const kept = JSON.stringify([...(payloads as unknown as { portals: Map<string, unknown> }).portals]);
    expect(kept).not.toContain(widget.AUTH_ID);
    expect(kept).not.toContain(widget.REFRESH_ID);
    expect(kept).not.toContain('AUTH_EXPIRES');
  });

  it.each([
    ['a bad AUTH_ID', { AUTH_ID: 'x' }],
    ['a missing AUTH_EXPIRES', { AUTH_EXPIRES: undefined }],
    ['a bad REFRESH_ID and AUTH_EXPIRES', { REFRESH_ID: 'no spaces allowed', AUTH_EXPIRES: '-1' }],
  ])('after the portal’s fields are known, %s gets the schema’s very 400', (_name, change) => {
    const payloads = new PlacementPayloads();
    payloads.read(widget);
    const input = { ...widget, ...change } as Record<string, string>;
    for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
    expect(answer(() => payloads.read(input))).toEqual(bySchema(input));
    expect(bySchema(input)).toMatchObject({ status: 400, code: 'invalid_payload' });
  });

  it('no key is shared by two different sets of portal fields (each value is length-prefixed)', () => {
    const payloads = new PlacementPayloads();
    // Valid, and kept: DOMAIN "a1", PROTOCOL "1"…
    const kept = { ...widget, DOMAIN: 'a1', PROTOCOL: '1' };
    payloads.read(kept);
    // …must not answer for DOMAIN "a", PROTOCOL "11" (invalid) nor DOMAIN "a11".
    for (const input of [
      { ...widget, DOMAIN: 'a', PROTOCOL: '11' },
      { ...widget, DOMAIN: 'a11', PROTOCOL: '' },
    ])
      expect(answer(() => payloads.read(input))).toEqual(bySchema(input));
  });

  it('equals the schema over 5,000 random sequences of mutated opens', () => {
    const field = fc.constantFrom(...Object.keys(widget));
    const value = fc.oneof(
      fc.constantFrom(
        '',
        ' ',
        '0',
        '1',
        '2',
        'en',
        'EN',
        'a1',
        '11',
        '{}',
        '[]',
        '{"ID":"1"}',
        'x'.repeat(9),
      ),
      fc.string({ maxLength: 12 }),
    );
    const mutation = fc.array(fc.tuple(field, fc.option(value)), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (opens) => {
        const payloads = new PlacementPayloads(4);
        for (const changes of opens) {
          const input: Record<string, string> = { ...widget };
          for (const [key, v] of changes) {
            if (v === null) delete input[key];
            else input[key] = v;
          }
          expect(answer(() => payloads.read(input))).toEqual(bySchema(input));
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
