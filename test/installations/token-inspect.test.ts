// The OAuth server's word on an access token (token-inspect.ts), the install's OAuth exchange
// around it (oauth-exchange.ts) and the one verdict on a stored grant (grant-check.ts). Real
// answers come from the emulator; answers it never gives (not JSON, a 5xx page, a silent
// server, an answer without the owner's fields) from a small stub server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessError,
  AuthError,
  type Bitrix24Error,
  PaymentRequiredError,
  RateLimitError,
  ReinstallRequiredError,
  TransientError,
  UnexpectedResponseError,
} from '../../src/bitrix24/errors.js';
import { checkGrant, grantVerdictOf } from '../../src/installations/grant-check.js';
import { oauthExchange } from '../../src/installations/oauth-exchange.js';
import { inspectAccessToken } from '../../src/installations/token-inspect.js';

let emulator: EmulatorHandle;
let stub: Server;
let stubUrl: string;
/** What the stub answers next, and the request bodies it saw. */
let answer: (res: ServerResponse) => void = (res) => res.end('{}');
const seen: { url: string; body: string }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ portals: [{ memberId: 'abc0001' }] });
  stub = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emulator?.close();
  stub.closeAllConnections();
  await new Promise((resolve) => stub.close(resolve));
});

const json = (status: number, value: unknown) => (res: ServerResponse) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

describe("inspectAccessToken: the OAuth server's app.info", () => {
  it('names the app, the member_id and the domain of a live token, asked by POST with the token in the body', async () => {
    const portal = emulator.portal('abc0001');
    const tokens = emulator.issueTokens('abc0001', portal.adminUserId);
    expect(await inspectAccessToken(emulator.oauthUrl, tokens.access_token)).toEqual({
      clientId: emulator.apps[0]!.clientId,
      memberId: 'abc0001',
      domain: portal.domain,
    });
    seen.length = 0;
    answer = json(200, {
      result: { client_id: 'local.x', install: { member_id: 'm1', domain: 'p.example' } },
    });
    await inspectAccessToken(`${stubUrl}/`, 'secret-token');
    expect(seen).toEqual([{ url: '/rest/app.info', body: 'auth=secret-token' }]);
  });

  it('refuses an unknown and an ended token as AuthError, naming the code', async () => {
    await expect(inspectAccessToken(emulator.oauthUrl, 'never-issued')).rejects.toMatchObject({
      kind: 'auth',
      code: 'NO_AUTH_FOUND',
      status: 401,
      method: 'oauth/app.info',
    });
    const tokens = emulator.issueTokens('abc0001');
    emulator.expireTokens('abc0001');
    await expect(inspectAccessToken(emulator.oauthUrl, tokens.access_token)).rejects.toMatchObject({
      kind: 'auth',
      code: 'expired_token',
    });
  });

  it('answers null when the server does not name the owner (the caller verifies another way)', async () => {
    for (const body of [
      { result: { ID: 1, CODE: 'local.x' } },
      { result: { client_id: 'local.x', install: { member_id: 'm1' } } },
      { result: { client_id: '', install: { member_id: 'm1', domain: 'p.example' } } },
      { result: null },
      [],
      null,
      'text',
    ]) {
      answer = json(200, body);
      expect(await inspectAccessToken(stubUrl, 'token'), JSON.stringify(body)).toBeNull();
    }
  });

  it('a server that cannot be asked: TransientError (not JSON, a 5xx without an error field, silence, a closed port)', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    await expect(inspectAccessToken(stubUrl, 'token')).rejects.toMatchObject({
      kind: 'transient',
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: 200,
    });
    answer = json(502, { message: 'bad gateway' });
    await expect(inspectAccessToken(stubUrl, 'token')).rejects.toMatchObject({
      kind: 'transient',
      code: 'HTTP_502',
    });
    answer = () => {}; // never answers
    await expect(inspectAccessToken(stubUrl, 'token', { timeoutMs: 200 })).rejects.toMatchObject({
      kind: 'transient',
      code: 'REQUEST_TIMEOUT',
    });
    await expect(inspectAccessToken('http://127.0.0.1:9', 'token')).rejects.toMatchObject({
      kind: 'transient',
      code: 'NETWORK_ERROR',
    });
  });
});

describe('oauthExchange', () => {
  const app = () => emulator.apps[0]!;

  it('refresh: the grant with the server it came from; an answer without member_id or endpoint is refused', async () => {
    const exchange = oauthExchange(app(), { now: () => 1_000 });
    const tokens = emulator.issueTokens('abc0001');
    const grant = await exchange.refresh(tokens.refresh_token, emulator.oauthUrl);
    expect(grant).toMatchObject({
      memberId: 'abc0001',
      clientEndpoint: emulator.portal('abc0001').clientEndpoint,
      serverEndpoint: `${emulator.oauthUrl}/rest/`,
      scope: null,
    });
    answer = json(200, { access_token: 'a', refresh_token: 'r', expires_in: 3600 });
    const refused = await exchange.refresh('r0', stubUrl).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnexpectedResponseError);
    expect(refused).toMatchObject({ code: 'ERROR_UNEXPECTED_ANSWER', method: 'oauth/token' });
  });

  it('asks the server it is given, with the fetch it is given, for inspect and refresh alike', async () => {
    const asked: string[] = [];
    const counting: typeof fetch = (input, init) => {
      asked.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const exchange = oauthExchange(app(), { now: Date.now, fetch: counting });
    const tokens = emulator.issueTokens('abc0001');
    expect(await exchange.inspect(tokens.access_token, emulator.oauthUrl)).toMatchObject({
      memberId: 'abc0001',
    });
    await exchange.refresh(tokens.refresh_token, emulator.oauthUrl);
    expect(asked).toEqual(['/rest/app.info', '/oauth/token/']);
  });
});

describe('grant verdicts', () => {
  const init = (code: string, method = 'app.info') => ({ code, status: 400, description: 'd', method });
  it('only the OAuth server refusing the refresh token proves the grant gone', () => {
    const cases: [Bitrix24Error, string][] = [
      [new ReinstallRequiredError(init('invalid_grant', 'oauth/token')), 'revoked'],
      [new ReinstallRequiredError(init('invalid_client', 'oauth/token')), 'revoked'],
      [new ReinstallRequiredError(init('APPLICATION_NOT_FOUND')), 'unknown'],
      [new PaymentRequiredError(init('PAYMENT_REQUIRED', 'oauth/token')), 'payment_required'],
      [new AuthError(init('expired_token')), 'unknown'],
      [new AccessError(init('ACCESS_DENIED')), 'unknown'],
      [new TransientError(init('NETWORK_ERROR')), 'unreachable'],
      [new TransientError(init('REQUEST_TIMEOUT', 'oauth/token')), 'unreachable'],
      [new AuthError(init('invalid_token', 'oauth/token')), 'unknown'],
      [new RateLimitError(init('QUERY_LIMIT_EXCEEDED')), 'unreachable'],
    ];
    for (const [error, verdict] of cases) expect(grantVerdictOf(error), error.code).toBe(verdict);
  });

  it('checkGrant: working, or the verdict and the code with its description', async () => {
    const target = { id: 1, memberId: 'abc0001', clientEndpoint: 'http://x/rest/' } as never;
    const answering = (outcome: () => Promise<unknown>) => ({
      forInstallation: () => ({ app: { info: outcome } }) as never,
    });
    expect(
      await checkGrant(
        answering(async () => ({})),
        target,
      ),
    ).toEqual({ verdict: 'working', detail: null });
    const revoked = new ReinstallRequiredError(init('invalid_grant', 'oauth/token'));
    expect(
      await checkGrant(
        answering(() => Promise.reject(revoked)),
        target,
      ),
    ).toEqual({
      verdict: 'revoked',
      detail: 'invalid_grant: d',
    });
    const bare = new TransientError({
      code: 'NETWORK_ERROR',
      status: 0,
      description: '',
      method: 'app.info',
    });
    expect(
      await checkGrant(
        answering(() => Promise.reject(bare)),
        target,
      ),
    ).toEqual({
      verdict: 'unreachable',
      detail: 'NETWORK_ERROR',
    });
    await expect(
      checkGrant(
        answering(() => Promise.reject(new Error('bug'))),
        target,
      ),
    ).rejects.toThrow('bug');
  });
});
