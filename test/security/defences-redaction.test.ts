// Log redaction, path by path (issue #18): each place a token or secret can appear in a logged
// object is censored to exactly "[redacted]", whatever object carries it, and nothing else is.
import { describe, expect, it } from 'vitest';
import { createLogger, REDACT_PATHS } from '../../src/logger.js';
import { LogCapture } from '../helpers/app.js';

function logged(object: Record<string, unknown>): Record<string, unknown> {
  const capture = new LogCapture();
  createLogger('info', capture.stream).info(object, 'line');
  expect(capture.lines).toHaveLength(1);
  return JSON.parse(capture.lines[0]!) as Record<string, unknown>;
}

/** The `*.<key>` paths: any object one level down that holds the key. */
const WILDCARD_KEYS = REDACT_PATHS.filter((p) => p.startsWith('*.')).map((p) => p.slice(2));

describe('redaction', () => {
  it('covers exactly these keys', () => {
    expect(WILDCARD_KEYS).toEqual([
      'AUTH_ID',
      'REFRESH_ID',
      'APPLICATION_TOKEN',
      'auth',
      'access_token',
      'refresh_token',
      'application_token',
      'accessToken',
      'refreshToken',
      'applicationToken',
      'client_secret',
      'clientSecret',
      'password',
      'token',
    ]);
  });

  it.each(WILDCARD_KEYS)('%s is censored in any logged object, its neighbours are kept', (key) => {
    const line = logged({
      payload: { [key]: 'SECRET-VALUE-1', member_id: 'm1' },
      other: { [key]: { nested: 'SECRET-2' } },
    });
    expect(line.payload).toEqual({ [key]: '[redacted]', member_id: 'm1' });
    expect(line.other).toEqual({ [key]: '[redacted]' });
    expect(JSON.stringify(line)).not.toContain('SECRET');
  });

  it('the request headers that carry credentials are censored; requests log the path only', () => {
    const capture = new LogCapture();
    const logger = createLogger('info', capture.stream);
    // Not through the req serializer (it keeps only method, url and ip): as a raw object.
    logger.child({}).info(
      {
        req: {
          method: 'POST',
          url: '/events?auth=SECRET-QUERY',
          headers: { authorization: 'Bearer SECRET-A', cookie: 'sid=SECRET-C', 'x-admin-token': 'SECRET-X' },
        },
      },
      'line',
    );
    const line = JSON.parse(capture.lines[0]!);
    expect(line.req).toEqual({ method: 'POST', url: '/events' });
    expect(capture.text).not.toContain('SECRET');
  });

  it('the header paths name exactly the credential headers', () => {
    expect(REDACT_PATHS.filter((p) => !p.startsWith('*.'))).toEqual([
      'req.headers.authorization',
      'req.headers.cookie',
      'req.headers["x-admin-token"]',
    ]);
  });
});
