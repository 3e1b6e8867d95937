// Each installation is refreshed against the OAuth server it was installed from (its
// serverEndpoint), checked against the allowlist again at every refresh.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OAuthServers } from '../../src/bitrix24/oauth-servers.js';
import { appProcess, createTestEnv, expireStoredTokens, type TestEnv } from './setup.js';

let env: TestEnv;
beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(() => env?.close());

/** A process whose fallback OAuth URL leads nowhere: a refresh that works used the named server. */
function processWithFallbackNowhere() {
  const app = env.emulator.apps[0]!;
  return appProcess(env, env.testDb.connect(), {
    owner: 'process-b',
    tokens: {
      oauth: { oauthUrl: 'http://127.0.0.1:9', clientId: app.clientId, clientSecret: app.clientSecret },
      servers: new OAuthServers([env.emulator.oauthUrl], 'http://127.0.0.1:9'),
    },
  });
}

describe('per-installation OAuth server', () => {
  it('refreshes against the server the installation names', async () => {
    const origin = new URL(env.emulator.oauthUrl).origin;
    const installation = await env.store.save({ ...env.installation, serverEndpoint: `${origin}/rest/` });
    await expireStoredTokens(env);
    const proc = processWithFallbackNowhere();
    await expect(proc.factory.forInstallation(installation).app.info()).resolves.toMatchObject({
      CODE: env.emulator.apps[0]!.clientId,
    });
    expect(env.emulator.stats.snapshot().oauth.refreshRequests).toBe(1);
  });

  it('refuses to refresh against a stored server that is not on the allowlist, sending nothing', async () => {
    const installation = await env.store.save({
      ...env.installation,
      serverEndpoint: 'https://oauth.evil.example/rest/',
    });
    await expireStoredTokens(env);
    const requested: string[] = [];
    const app = env.emulator.apps[0]!;
    const proc = appProcess(env, env.testDb.connect(), {
      owner: 'process-c',
      tokens: {
        oauth: { oauthUrl: env.emulator.oauthUrl, clientId: app.clientId, clientSecret: app.clientSecret },
        servers: new OAuthServers([env.emulator.oauthUrl], env.emulator.oauthUrl),
        fetch: async (url, init) => {
          requested.push(String(url));
          return fetch(url, init);
        },
      },
    });
    await expect(proc.factory.forInstallation(installation).app.info()).rejects.toMatchObject({
      code: 'oauth_server_not_allowed',
    });
    expect(requested).toEqual([]);
    expect(env.emulator.stats.snapshot().oauth.refreshRequests).toBe(0);
  });
});
