// Payload parsing at its edges (issue #18, mutation survivors of payloads.ts): what is not an
// object contributes no field, blank PLACEMENT_OPTIONS is no options, and a refusal names a
// wrong value apart from a missing one.
import { describe, expect, it } from 'vitest';
import {
  eventInput,
  mergeQueryAndBody,
  parsePayload,
  placementPayloadSchema,
} from '../../src/bitrix24/payloads.js';
import { AppError } from '../../src/errors.js';

const widget = {
  DOMAIN: 'portal.example.com',
  PROTOCOL: '1',
  LANG: 'en',
  AUTH_ID: 'auth0123456789',
  AUTH_EXPIRES: '3600',
  member_id: 'a223c6b3710f85df',
  PLACEMENT: 'LANDING_SETTINGS',
};

/** The `fields` of the 400 a payload gets, or the value it parsed to. */
function refusal(input: unknown): unknown {
  try {
    return parsePayload(placementPayloadSchema, input, 'widget request');
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { status: error.statusCode, code: error.code, fields: error.details?.fields };
  }
}

describe('payload parsing', () => {
  it('blank PLACEMENT_OPTIONS (spaces only) is no options, not a refusal', () => {
    const parsed = parsePayload(placementPayloadSchema, { ...widget, PLACEMENT_OPTIONS: '  \t ' }, 'widget');
    expect(parsed.PLACEMENT_OPTIONS).toEqual({});
  });

  it('PROTOCOL 1 is https, 0 is http', () => {
    const protocol = (value: string) =>
      parsePayload(placementPayloadSchema, { ...widget, PROTOCOL: value }, 'widget').PROTOCOL;
    expect([protocol('1'), protocol('0')]).toEqual(['https', 'http']);
  });

  it('a query or body that is not an object contributes no field', () => {
    expect(mergeQueryAndBody('DOMAIN', { member_id: 'm1' })).toEqual({ member_id: 'm1' });
    expect(mergeQueryAndBody({ member_id: 'm1' }, 'xy')).toEqual({ member_id: 'm1' });
    expect(mergeQueryAndBody(['a', 'b'], 42)).toEqual({});
  });

  it('an event whose data or auth is a string gets empty ones', () => {
    expect(eventInput({ event: 'ONAPPINSTALL', data: 'xyz', auth: 'abc' })).toEqual({
      event: 'ONAPPINSTALL',
      data: {},
      auth: {},
    });
    expect(eventInput('event=ONAPPINSTALL')).toEqual({ data: {}, auth: {} });
  });

  it('a wrong value is named by what it must be; only an absent one "is missing"', () => {
    const { DOMAIN: _domain, ...noDomain } = widget;
    expect(refusal({ ...noDomain, AUTH_EXPIRES: 'soon' })).toEqual({
      status: 400,
      code: 'invalid_payload',
      fields: [
        { field: 'DOMAIN', message: 'is missing' },
        { field: 'AUTH_EXPIRES', message: 'must be a number of seconds' },
      ],
    });
    // A JSON body can carry a number where a string belongs: a wrong type, not a missing field.
    expect(refusal({ ...widget, member_id: 42 })).toEqual({
      status: 400,
      code: 'invalid_payload',
      fields: [{ field: 'member_id', message: 'Invalid input: expected string, received number' }],
    });
  });
});
