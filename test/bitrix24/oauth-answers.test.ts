// Bad answers from the OAuth server to the refresh grant (issue #18): a timeout, no answer, a
// page that is not JSON, an error object, a grant missing its tokens. Each becomes one typed
// error whose text never carries the request URL (it holds the client secret and the token).
import { describe, expect, it, vi } from 'vitest';
import {
  type Bitrix24Error,
  PaymentRequiredError,
  ReinstallRequiredError,
  TransientError,
  UnexpectedResponseError,
} from '../../src/bitrix24/errors.js';
import { MIN_OAUTH_TIMEOUT_MS, requestRefreshGrant } from '../../src/installations/token-oauth-client.js';

const CONFIG = { oauthUrl: 'https://oauth.example.com', clientId: 'app.1', clientSecret: 'top-secret' };
const NOW = Date.UTC(2026, 0, 1);

/** A fetch that records what it was asked and answers `status` with `text`. */
function answering(status: number, text: string) {
  const calls: { url: string; signal: AbortSignal | undefined }[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    calls.push({ url: String(url), signal: init?.signal ?? undefined });
    return new Response(text, { status });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const failing = (error: unknown) =>
  (async () => {
    throw error;
  }) as unknown as typeof globalThis.fetch;

async function refusal(fetch: typeof globalThis.fetch, timeoutMs?: number): Promise<Bitrix24Error> {
  const error = await requestRefreshGrant(CONFIG, 'refresh-secret', { fetch, now: NOW, timeoutMs }).then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(String((error as Error).message)).not.toMatch(/top-secret|refresh-secret|oauth\.example/);
  expect(JSON.stringify(error)).not.toMatch(/top-secret|refresh-secret/);
  return error as Bitrix24Error;
}

describe('the refresh request', () => {
  it('leaves no timer behind once answered (the timeout is cleared, not left to fire)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { fetch } = answering(200, JSON.stringify({ access_token: 'a', refresh_token: 'r' }));
      await requestRefreshGrant(CONFIG, 'refresh-secret', { fetch, now: NOW });
      expect(vi.getTimerCount()).toBe(0);
      await refusal(answering(200, 'not json').fetch);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('asks GET /oauth/token/ with the refresh grant, whatever the base URL ends with', async () => {
    for (const oauthUrl of ['https://oauth.example.com', 'https://oauth.example.com/']) {
      const { fetch, calls } = answering(200, JSON.stringify({ access_token: 'a', refresh_token: 'r' }));
      await requestRefreshGrant({ ...CONFIG, oauthUrl }, 'refresh-secret', { fetch, now: NOW });
      expect(calls.map((c) => c.url)).toEqual([
        'https://oauth.example.com/oauth/token/?grant_type=refresh_token&client_id=app.1&client_secret=top-secret&refresh_token=refresh-secret',
      ]);
      expect(calls[0]!.signal).toBeInstanceOf(AbortSignal);
    }
  });

  it('a good grant: exact tokens, expiry from expires_in, numeric strings accepted', async () => {
    const { fetch } = answering(
      200,
      JSON.stringify({
        access_token: 'new-access',
        refresh_token: 'new-refresh',
        expires_in: '1800',
        member_id: 'm1',
        user_id: '7',
        client_endpoint: 'https://p.example.com/rest/',
      }),
    );
    expect(await requestRefreshGrant(CONFIG, 'refresh-secret', { fetch, now: NOW })).toEqual({
      accessToken: 'new-access',
      refreshToken: 'new-refresh',
      expiresAt: new Date(NOW + 1_800_000),
      userId: 7,
      memberId: 'm1',
      clientEndpoint: 'https://p.example.com/rest/',
    });
  });

  it('a grant without expires_in lives an hour; without user_id it has none', async () => {
    const { fetch } = answering(200, JSON.stringify({ access_token: 'a', refresh_token: 'r' }));
    expect(await requestRefreshGrant(CONFIG, 'x', { fetch, now: NOW })).toEqual({
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: new Date(NOW + 3_600_000),
      userId: null,
      memberId: undefined,
      clientEndpoint: undefined,
    });
  });
});

describe('bad answers', () => {
  it('a timeout: REQUEST_TIMEOUT, transient, naming the budget (never below the minimum)', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const short = await refusal(failing(timeout), 10);
    expect(short).toBeInstanceOf(TransientError);
    expect(short).toMatchObject({
      code: 'REQUEST_TIMEOUT',
      status: 0,
      method: 'oauth/token',
      description: `OAuth server did not answer within ${MIN_OAUTH_TIMEOUT_MS} ms`,
    });
    expect(MIN_OAUTH_TIMEOUT_MS).toBe(60_000);
    const long = await refusal(failing(timeout), 90_000);
    expect(long.description).toBe('OAuth server did not answer within 90000 ms');
  });

  it('no answer at all: NETWORK_ERROR, transient', async () => {
    const error = await refusal(
      failing(new TypeError('fetch failed: https://oauth.example.com/?client_secret=top-secret')),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({
      code: 'NETWORK_ERROR',
      status: 0,
      description: 'OAuth server unreachable',
    });
  });

  it('a page that is not JSON: ERROR_UNEXPECTED_ANSWER, transient, with the HTTP status', async () => {
    const error = await refusal(answering(502, '<html>Bad gateway</html>').fetch);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: 502,
      description: 'OAuth answer is not JSON (HTTP 502)',
    });
  });

  it('an empty body, whatever the status: ERROR_UNEXPECTED_ANSWER, transient (not a malformed grant)', async () => {
    for (const status of [200, 502]) {
      const error = await refusal(answering(status, '').fetch);
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({
        code: 'ERROR_UNEXPECTED_ANSWER',
        status,
        description: `OAuth answer is not JSON (HTTP ${status})`,
      });
    }
  });

  it('invalid_grant and invalid_client: only a reinstall helps', async () => {
    for (const code of ['invalid_grant', 'invalid_client']) {
      const error = await refusal(
        answering(400, JSON.stringify({ error: code, error_description: 'gone' })).fetch,
      );
      expect(error).toBeInstanceOf(ReinstallRequiredError);
      expect(error).not.toBeInstanceOf(PaymentRequiredError);
      expect(error).toMatchObject({ kind: 'reinstall', code, status: 400, description: 'gone' });
    }
  });

  it('PAYMENT_REQUIRED in any case: the subscription ran out', async () => {
    const error = await refusal(answering(402, JSON.stringify({ error: 'payment_required' })).fetch);
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error).toMatchObject({ code: 'PAYMENT_REQUIRED', status: 402, description: '' });
  });

  it('another error code goes through the shared code table', async () => {
    const error = await refusal(answering(503, JSON.stringify({ error: 'QUERY_LIMIT_EXCEEDED' })).fetch);
    expect(error).toMatchObject({ kind: 'rate_limit', code: 'QUERY_LIMIT_EXCEEDED', status: 503 });
  });

  it('a 5xx JSON answer without an error: HTTP_<status>, transient', async () => {
    const error = await refusal(answering(500, JSON.stringify({ result: 'later' })).fetch);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'HTTP_500', status: 500, description: 'OAuth server error' });
  });

  it.each([
    ['no refresh_token', { access_token: 'a' }],
    ['no access_token', { refresh_token: 'r' }],
    ['an empty access_token', { access_token: '', refresh_token: 'r' }],
    ['an empty refresh_token', { access_token: 'a', refresh_token: '' }],
    ['expires_in that is not a number', { access_token: 'a', refresh_token: 'r', expires_in: 'soon' }],
    ['user_id that is not a number', { access_token: 'a', refresh_token: 'r', user_id: '7a' }],
    ['a JSON string', 'access_token'],
    ['null', null],
  ])('a malformed grant (%s): ERROR_UNEXPECTED_ANSWER, not retried as transient', async (_what, body) => {
    const error = await refusal(answering(200, JSON.stringify(body)).fetch);
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error).toMatchObject({
      kind: 'unexpected',
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: 200,
      description: 'OAuth answer lacks access_token/refresh_token',
    });
  });
});
