// Across a whole flow (install, widget opens and actions, refresh, uninstall) no token or
// secret appears in a log line or a page, and URLs taken from payloads never get a request.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let attacker: FastifyInstance;
let attackerUrl: string;
const attackerHits: string[] = [];

beforeAll(async () => {
  attacker = Fastify();
  attacker.all('/*', async (request) => {
    attackerHits.push(`${request.method} ${request.url}`);
    return {
      result: true,
      access_token: 'x',
      refresh_token: 'y',
      member_id: 'm',
      client_endpoint: 'http://x/rest/',
    };
  });
  await attacker.listen({ host: '127.0.0.1', port: 0 });
  const address = attacker.server.address() as { port: number };
  attackerUrl = `127.0.0.1:${address.port}`;
  stack = await startStack({
    emulator: { portals: [{ memberId: 'a1a1a1a1' }, { memberId: 'b2b2b2b2' }] },
    // The app itself logs no payload today, so without this line no flow would show whether
    // the logger's redaction works (issue #18: removing it went unnoticed). It is the debugging
    // line someone may add one day: every payload the portal posts, logged whole.
    configure: (app) =>
      app.addHook('preHandler', async (request) => {
        if (request.method === 'POST') request.log.info({ payload: request.body }, 'payload received');
      }),
  });
});
afterAll(async () => {
  await stack?.close();
  await attacker?.close();
});

const post = (url: string, body: [string, string][] | string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
  }).then(async (r) => ({ status: r.status, body: await r.text() }));

describe('secrets', () => {
  it('never appear in logs or pages', async () => {
    const secrets = new Set<string>([stack.emulator.apps[0]!.clientSecret]);
    const pages: string[] = [];
    const install = await stack.emulator.installApp('a1a1a1a1');
    pages.push(install.body);
    for (const [k, v] of install.payload.body) if (k === 'AUTH_ID' || k === 'REFRESH_ID') secrets.add(v);
    stack.emulator.finishInstall('a1a1a1a1');

    const widget = await stack.emulator.openPlacement('a1a1a1a1', { placement: 'LANDING_SETTINGS' });
    pages.push(widget.body);
    for (const [k, v] of widget.payload.body)
      if (k === 'AUTH_ID' || k === 'REFRESH_ID' || k === 'APPLICATION_TOKEN') secrets.add(v);
    const ctx = /name="ctx" value="([^"]+)"/.exec(widget.body)?.[1] ?? '';
    pages.push(
      (
        await post(`${stack.appUrl}/placements/settings/action`, [
          ['ctx', ctx],
          ['action', 'trash'],
        ])
      ).body,
    );
    // A forged open and a broken one, to log some refusals too.
    pages.push(
      (
        await post(
          widget.payload.action,
          widget.payload.body.map(([k, v]) => [k, k === 'AUTH_ID' ? 'x'.repeat(30) : v]),
        )
      ).body,
    );

    // Force a refresh of the installation's tokens, then use them.
    const installation = (await stack.app.installations.find('a1a1a1a1'))!;
    const before = (await stack.app.installations.getTokens(installation.id))!;
    secrets.add(before.accessToken).add(before.refreshToken);
    stack.emulator.expireTokens('a1a1a1a1');
    await stack.app.clients.forInstallation(installation).app.info(undefined);
    const after = (await stack.app.installations.getTokens(installation.id))!;
    expect(after.version).toBe(before.version + 1);
    secrets.add(after.accessToken).add(after.refreshToken);

    const [uninstall] = await stack.emulator.uninstallApp('a1a1a1a1', { clean: false });
    pages.push(uninstall?.body ?? '');

    const logs = stack.logs.text;
    expect(logs.length).toBeGreaterThan(1000);
    // Each payload was logged, with exactly its secret fields censored, whatever the route.
    const payloads = stack.logs.lines
      .map((line) => JSON.parse(line) as { msg: string; payload?: Record<string, unknown> })
      .filter((line) => line.msg === 'payload received')
      .map((line) => line.payload ?? {});
    const censored = (key: string) =>
      payloads.filter((p) => key in p).map((p) => (p as Record<string, unknown>)[key]);
    expect(new Set(censored('AUTH_ID'))).toEqual(new Set(['[redacted]']));
    expect(new Set(censored('REFRESH_ID'))).toEqual(new Set(['[redacted]']));
    expect(new Set(censored('APPLICATION_TOKEN'))).toEqual(new Set(['[redacted]']));
    expect(new Set(censored('auth'))).toEqual(new Set(['[redacted]']));
    expect(censored('ctx').length).toBeGreaterThan(0);
    expect(payloads.some((p) => p.member_id === 'a1a1a1a1')).toBe(true);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(7);
      expect(logs).not.toContain(secret);
      for (const page of pages) expect(page).not.toContain(secret);
    }
  });
});

describe('outbound requests go only to the pinned portal and the OAuth server', () => {
  it('ignores endpoints and domains named in payloads', async () => {
    const portal = stack.emulator.portal('b2b2b2b2');
    const install = await stack.emulator.installApp('b2b2b2b2');
    expect(install.status).toBe(200);
    stack.emulator.finishInstall('b2b2b2b2');

    // A widget open naming another server everywhere it can.
    const widget = await stack.emulator.openPlacement('b2b2b2b2', { placement: 'LANDING_SETTINGS' });
    const evilBody = widget.payload.body.map(([k, v]): [string, string] =>
      k === 'SERVER_ENDPOINT' ? [k, `http://${attackerUrl}/rest/`] : [k, v],
    );
    const evilAction = widget.payload.action.replace(
      encodeURIComponent(portal.domain),
      encodeURIComponent(attackerUrl),
    );
    expect((await post(evilAction, evilBody)).status).toBe(403);
    expect((await post(widget.payload.action, evilBody)).status).toBe(200);

    // An install naming the attacker as DOMAIN with genuine, unspent tokens of the portal.
    const tokens = stack.emulator.issueTokens('b2b2b2b2', portal.adminUserId);
    const evilInstall = install.payload.body.map(([k, v]): [string, string] => {
      if (k === 'AUTH_ID') return [k, tokens.access_token];
      if (k === 'REFRESH_ID') return [k, tokens.refresh_token];
      return [k, v];
    });
    const installAction = install.payload.action.replace(
      encodeURIComponent(portal.domain),
      encodeURIComponent(attackerUrl),
    );
    expect((await post(installAction, evilInstall)).status).toBe(403);

    // Events naming the attacker's endpoints.
    const event = new URLSearchParams({
      event: 'ONAPPINSTALL',
      'auth[domain]': attackerUrl,
      'auth[client_endpoint]': `http://${attackerUrl}/rest/`,
      'auth[server_endpoint]': `http://${attackerUrl}/rest/`,
      'auth[member_id]': 'b2b2b2b2',
      'auth[refresh_token]': stack.emulator.issueTokens('b2b2b2b2', portal.adminUserId).refresh_token,
      'auth[application_token]': 'abcdef0123456789',
    }).toString();
    expect((await post(`${stack.appUrl}/events`, event)).status).toBe(403);

    expect(attackerHits).toEqual([]);
    expect((await stack.app.installations.find('b2b2b2b2'))?.clientEndpoint).toBe(portal.clientEndpoint);
  });
});
