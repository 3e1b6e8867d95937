// sharedPortalHandler: one Fastify instance answers for every portal, yet each portal keeps its
// own port and DOMAIN, and a request is answered as the portal whose port it arrived on.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_APP, type EmulatorHandle, startEmulator } from '../src/index.js';
import { rest } from '../src/testing.js';

const MEMBERS = ['5a4ed0001', '5a4ed0002', '5a4ed0003'];
let emulator: EmulatorHandle;
let taken: Server;
let first: number;

beforeAll(async () => {
  // A port in use right where the portals start counting: it must be skipped.
  taken = createServer();
  first = await new Promise<number>((resolve) =>
    taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
  );
  emulator = await startEmulator({
    portals: MEMBERS.map((memberId) => ({ memberId })),
    sharedPortalHandler: true,
    firstPortalPort: first,
  });
});
afterAll(async () => {
  await emulator?.close();
  taken?.close();
});

describe('sharedPortalHandler', () => {
  it('gives every portal its own free port and DOMAIN, counting up from firstPortalPort', () => {
    const ports = emulator.portals.map((p) => p.port);
    expect(new Set(ports).size).toBe(MEMBERS.length);
    expect(ports.every((p) => p > first)).toBe(true);
    expect(emulator.portals.map((p) => p.domain)).toEqual(ports.map((p) => `127.0.0.1:${p}`));
  });

  it("answers REST as the portal the connection came to, and refuses another portal's token", async () => {
    for (const m of MEMBERS) {
      const portal = emulator.portal(m);
      const own = emulator.issueTokens(m);
      const info = await rest(portal.clientEndpoint, 'app.info', { auth: own.access_token });
      expect(info.status).toBe(200);
      expect(info.body.result.CODE).toBe(DEFAULT_APP.clientId);
      expect(own.client_endpoint).toBe(portal.clientEndpoint);
    }
    const foreign = emulator.issueTokens(MEMBERS[0]);
    const r = await rest(emulator.portal(MEMBERS[1]).clientEndpoint, 'user.current', {
      auth: foreign.access_token,
    });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('NO_AUTH_FOUND');
    expect(emulator.stats.portal(MEMBERS[1]).restRequests).toBe(2);
  });

  it('serves each portal its own editor page and authorize redirect', async () => {
    const portal = emulator.portal(MEMBERS[2]);
    const page = await (await fetch(portal.editorUrl)).text();
    expect(page).toContain(`"memberId":"${MEMBERS[2]}"`);
    const r = await fetch(
      `${portal.baseUrl}/oauth/authorize/?client_id=${DEFAULT_APP.clientId}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}`,
      { redirect: 'manual' },
    );
    const location = new URL(r.headers.get('location') ?? '');
    expect(location.searchParams.get('member_id')).toBe(MEMBERS[2]);
    expect(location.searchParams.get('domain')).toBe(portal.domain);
  });
});
