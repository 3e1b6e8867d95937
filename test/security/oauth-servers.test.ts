// The OAuth server a portal names (SERVER_ENDPOINT, auth[server_endpoint]) is used only when it
// is on the allowlist: our client secret goes with every refresh, so a request naming any other
// server is refused before anything is sent to it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthServers } from '../../src/bitrix24/oauth-servers.js';
import { type Stack, startStack } from '../helpers/stack.js';

/** A server that records whatever reaches it: the test fails if anything does. */
let trap: Server;
let trapUrl: string;
const trapped: string[] = [];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: { portals: [{ memberId: '0a0a0a01' }, { memberId: '0a0a0a02' }] },
    // Only the emulator's OAuth server (B24_OAUTH_URL, always allowed) is on the list.
    env: { B24_OAUTH_SERVERS: '' },
  });
  trap = createServer((req, res) => {
    trapped.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => trap.close(resolve));
});

describe('OAuth server allowlist', () => {
  it('resolves named endpoints to allowed origins, the fallback when none is named, and refuses the rest', () => {
    const servers = new OAuthServers(
      ['https://oauth.bitrix.info', 'https://oauth.bitrix24.tech'],
      'https://oauth.bitrix.info',
    );
    expect(servers.resolve('https://oauth.bitrix24.tech/rest/')).toBe('https://oauth.bitrix24.tech');
    expect(servers.resolve('https://oauth.bitrix.info/rest/')).toBe('https://oauth.bitrix.info');
    expect(servers.resolve(undefined)).toBe('https://oauth.bitrix.info');
    expect(servers.resolve('')).toBe('https://oauth.bitrix.info');
    for (const named of [
      'https://oauth.bitrix.info.evil.example/rest/',
      'http://oauth.bitrix.info/rest/',
      'https://oauth.bitrix.info:8443/rest/',
      'https://evil.example/rest/',
      'not a url',
    ]) {
      expect(() => servers.resolve(named), named).toThrow(
        expect.objectContaining({ statusCode: 403, code: 'oauth_server_not_allowed' }),
      );
    }
  });

  it('installs against the server the portal names when it is allowed, and stores it', async () => {
    const stack2 = stack;
    expect(stack2.config.bitrix24.oauthServers).toEqual([new URL(stack2.emulator.oauthUrl).origin]);
    const res = await stack2.emulator.installApp('0a0a0a01');
    expect(res.status).toBe(200);
    const installation = await stack2.app.installations.find('0a0a0a01');
    expect(installation?.serverEndpoint).toBe(`${new URL(stack2.emulator.oauthUrl).origin}/rest/`);
  });

  it('refuses an install naming another server, sending nothing to it and storing nothing', async () => {
    const genuine = await stack.emulator.installApp('0a0a0a02').catch(() => null);
    expect(genuine?.status).toBe(200);
    await stack.testDb.db.installation.deleteMany({ where: { memberId: '0a0a0a02' } });
    const tokens = stack.emulator.issueTokens('0a0a0a02');
    const portal = stack.emulator.portal('0a0a0a02');
    const res = await fetch(`${stack.appUrl}/install?DOMAIN=${portal.domain}&PROTOCOL=0&LANG=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        AUTH_ID: tokens.access_token,
        AUTH_EXPIRES: '3600',
        REFRESH_ID: tokens.refresh_token,
        member_id: '0a0a0a02',
        PLACEMENT: 'DEFAULT',
        SERVER_ENDPOINT: `${trapUrl}/rest/`,
      }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('oauth_server_not_allowed');
    expect(trapped).toEqual([]);
    expect(await stack.app.installations.find('0a0a0a02')).toBeNull();
    expect(await stack.testDb.db.pendingInstall.count()).toBe(0);
  });

  it('refuses an ONAPPINSTALL naming another server the same way', async () => {
    const tokens = stack.emulator.issueTokens('0a0a0a02');
    const portal = stack.emulator.portal('0a0a0a02');
    const res = await fetch(`${stack.appUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        event: 'ONAPPINSTALL',
        'auth[access_token]': tokens.access_token,
        'auth[refresh_token]': tokens.refresh_token,
        'auth[domain]': portal.domain,
        'auth[member_id]': '0a0a0a02',
        'auth[server_endpoint]': `${trapUrl}/rest/`,
        'auth[application_token]': 'abcdef0123456789',
      }).toString(),
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toBe('oauth_server_not_allowed');
    expect(trapped).toEqual([]);
    expect(await stack.app.installations.find('0a0a0a02')).toBeNull();
  });
});
