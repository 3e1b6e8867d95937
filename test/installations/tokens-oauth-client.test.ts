// The refresh request as it goes over real HTTP to the emulator's OAuth server (issue #18): the
// headers it sends and the URL it is sent to, whatever the configured base looks like.
import { startEmulator } from 'bitrix24-emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requestRefreshGrant } from '../../src/installations/token-oauth-client.js';

let emulator: Awaited<ReturnType<typeof startEmulator>>;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator?.close());

it('asks for JSON at /oauth/token/ of the base’s origin, and gets the issued pair', async () => {
  const app = emulator.apps[0]!;
  for (const base of [emulator.oauthUrl, `${emulator.oauthUrl}/`, `${emulator.oauthUrl}/some/path`]) {
    const issued = emulator.issueTokens();
    const sent: { url: string; accept: string | null }[] = [];
    const recording: typeof fetch = (input, init) => {
      sent.push({ url: String(input), accept: new Headers(init?.headers).get('accept') });
      return fetch(input, init);
    };
    const grant = await requestRefreshGrant(
      { oauthUrl: base, clientId: app.clientId, clientSecret: app.clientSecret },
      issued.refresh_token,
      { fetch: recording, now: 1_000 },
    );
    const query = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      refresh_token: issued.refresh_token,
    });
    expect(sent).toEqual([{ url: `${emulator.oauthTokenUrl}?${query}`, accept: 'application/json' }]);
    expect(grant.refreshToken).not.toBe(issued.refresh_token);
    expect(grant.expiresAt).toEqual(new Date(1_000 + 3_600_000));
  }
});
