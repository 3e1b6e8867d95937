import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets, redactUrl } from '../../src/bitrix24/redact.js';

describe('redactSecrets', () => {
  it('replaces secret keys at any depth and auth= in strings', () => {
    const input = {
      auth: 'a1',
      fields: { AUTH_ID: 'a2', REFRESH_ID: 'r', nested: [{ refresh_token: 'r2', keep: 'x' }] },
      url: 'https://p.test/rest/app.info.json?auth=secret&x=1',
    };
    expect(redactSecrets(input)).toEqual({
      auth: REDACTED,
      fields: { AUTH_ID: REDACTED, REFRESH_ID: REDACTED, nested: [{ refresh_token: REDACTED, keep: 'x' }] },
      url: `https://p.test/rest/app.info.json?auth=${REDACTED}&x=1`,
    });
    expect(redactUrl('/oauth/token/?client_secret=s&refresh_token=t&grant_type=refresh_token')).toBe(
      `/oauth/token/?client_secret=${REDACTED}&refresh_token=${REDACTED}&grant_type=refresh_token`,
    );
  });
});
