// DOMAIN is bounded before any use and nothing of an unverified request reaches a header: a
// 20,000-character DOMAIN sent to every route (query and body) gets each route's own clear
// answer with small headers, and an error page is framed only by the pinned portal or by a
// DOMAIN that passed validation.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { type Stack, startStack } from '../helpers/stack.js';

const HUGE = `p${'a'.repeat(19_990)}.example.com`;
const MEMBER = 'e1e1e1e1';
const DOMAIN_REFUSAL = 'DOMAIN must be a host name such as portal.bitrix24.com (at most 255 characters)';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: { portals: [{ memberId: MEMBER }] },
    env: { ADMIN_TOKEN: 'hostile-domain-admin-token', METRICS_ENABLED: 'true' },
  });
  expect((await stack.emulator.installApp(MEMBER)).status).toBe(200);
});
afterAll(async () => stack?.close());

/** Every route and method the app serves, read from printRoutes (nested lines extend their parent). */
function routesOf(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    parents.length = depth;
    const url = (parents[depth - 1] ?? '') + match[2]!;
    parents.push(url);
    for (const method of match[3]!.split(', ')) routes.push({ method, url });
  }
  return routes;
}

/** The static file routes show as one wildcard; ask for real files under both prefixes. */
const concrete = (url: string) =>
  url.endsWith('*') ? ['/static/app.css', '/vendor/b24jssdk/index.js', '/no-such-page'] : [url];

/** What each route answers to a request that carries nothing but a hostile DOMAIN. */
function expectedStatus(method: string, url: string): number {
  // The routes that read DOMAIN (or auth[domain]) refuse it; the others never look at it.
  const reading = ['/install', '/', '/placements/settings', '/placements/block', '/events'];
  if (method === 'POST' && reading.includes(url)) return 400;
  if (url.endsWith('/action')) return 403; // no sealed context: DOMAIN is never read
  if (url.startsWith('/admin')) return 401;
  if (url === '/no-such-page') return 404;
  return method === 'POST' ? 404 : 200;
}

/** The response's header section as Node writes it: status line and `name: value` lines. */
function headerBytes(res: { statusCode: number; headers: Record<string, unknown> }): number {
  let size = `HTTP/1.1 ${res.statusCode} Status\r\n`.length + 2;
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of [value].flat()) size += Buffer.byteLength(`${name}: ${String(v)}\r\n`);
  }
  return size;
}

describe('a 20,000-character DOMAIN', () => {
  it('gets every route’s own answer, with headers under 8 KB that echo nothing of it', async () => {
    const routes = routesOf(stack.app).flatMap((r) => concrete(r.url).map((url) => ({ ...r, url })));
    // The route files' routes are all there (a new route would be covered the same way).
    for (const url of ['/install', '/events', '/placements/settings', '/placements/block/action', '/healthz'])
      expect(routes.map((r) => r.url)).toContain(url);
    expect(routes.length).toBeGreaterThanOrEqual(15);

    const fields = `DOMAIN=${HUGE}&PROTOCOL=1&LANG=en&member_id=${MEMBER}&auth[domain]=${HUGE}`;
    for (const { method, url } of routes) {
      const variants =
        method === 'POST'
          ? [
              { url: `${url}?DOMAIN=${HUGE}`, payload: `DOMAIN=${HUGE}` },
              { url, payload: fields },
            ]
          : [{ url: `${url}?DOMAIN=${HUGE}&PROTOCOL=1` }];
      for (const variant of variants) {
        const res = await stack.app.inject({
          method: method as 'GET',
          url: variant.url,
          ...('payload' in variant && {
            payload: variant.payload,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
        });
        const what = `${method} ${url}${'payload' in variant ? ' (body)' : ' (query)'}`;
        expect(res.statusCode, what).toBe(expectedStatus(method, url));
        expect(headerBytes(res), what).toBeLessThan(8192);
        expect(JSON.stringify(res.headers), what).not.toContain('aaaaaaaaaa');
        expect(String(res.headers['content-security-policy'] ?? ''), what).not.toContain('example.com');
      }
    }
  });

  it('is refused by name, before anything is looked up or stored', async () => {
    const before = stack.emulator.stats.portal(MEMBER).restRequests;
    const install = await stack.app.inject({
      method: 'POST',
      url: `/install?DOMAIN=${HUGE}&PROTOCOL=1&LANG=en`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `member_id=${MEMBER}&AUTH_ID=abcdefgh12&REFRESH_ID=abcdefgh34&AUTH_EXPIRES=3600&PLACEMENT=DEFAULT`,
    });
    expect(install.statusCode).toBe(400);
    expect(install.body).toContain('<code>invalid_payload</code>');
    expect(install.body).toContain(`The install request is not valid: ${DOMAIN_REFUSAL}.`);

    const event = await stack.app.inject({
      method: 'POST',
      url: '/events',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `event=ONAPPUNINSTALL&auth[domain]=${HUGE}&auth[member_id]=${MEMBER}&auth[application_token]=abc`,
    });
    expect(event.statusCode).toBe(400);
    expect(event.json()).toEqual({
      error: 'invalid_payload',
      message: `The event is not valid: auth[domain] ${DOMAIN_REFUSAL.slice('DOMAIN '.length)}.`,
      details: { fields: [{ field: 'auth[domain]', message: DOMAIN_REFUSAL.slice('DOMAIN '.length) }] },
    });
    expect(stack.emulator.stats.portal(MEMBER).restRequests).toBe(before);
    expect((await stack.app.installations.find(MEMBER))?.status).toBe('active');
  });

  it('is sent over real HTTP in a form body: a common client reads the answer', async () => {
    const res = await fetch(`${stack.appUrl}/placements/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `DOMAIN=${HUGE}&PROTOCOL=1&member_id=${MEMBER}`,
    });
    expect(res.status).toBe(400);
    // Framed by the portal the member_id pinned, not by anything the request says.
    const pinned = stack.emulator.portal(MEMBER).domain;
    expect(res.headers.get('content-security-policy')).toMatch(
      new RegExp(`frame-ancestors http://${pinned}$`),
    );
    const anonymous = await fetch(`${stack.appUrl}/placements/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `DOMAIN=${HUGE}&PROTOCOL=1`,
    });
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'$/);
  });
});

describe('error pages are framed by the portal, never by what a request claims', () => {
  const open = (query: string, body: string) =>
    stack.app.inject({
      method: 'POST',
      url: `/placements/settings?${query}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: body,
    });
  const widgetBody = (memberId: string) =>
    `member_id=${memberId}&AUTH_ID=abcdefgh12&AUTH_EXPIRES=3600&PLACEMENT=LANDING_SETTINGS&PLACEMENT_OPTIONS={"SITE_ID":"1"}`;

  it('a refused portal (another DOMAIN than the pinned one): framed by the pinned portal', async () => {
    const pinned = stack.emulator.portal(MEMBER).domain;
    const res = await open('DOMAIN=evil.example.com&PROTOCOL=1&LANG=de', widgetBody(MEMBER));
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('<code>domain_mismatch</code>');
    expect(res.headers['content-security-policy']).toMatch(new RegExp(`frame-ancestors http://${pinned}$`));
    expect(res.headers['content-security-policy']).not.toContain('evil');
    expect(res.body).toContain('lang="de"');
  });

  it('an unknown portal: framed by its DOMAIN once validated; by nobody when DOMAIN is not a host', async () => {
    const known = await open('DOMAIN=new.example.com&PROTOCOL=1', widgetBody('f0f0f0f0'));
    expect(known.statusCode).toBe(403);
    expect(known.body).toContain('<code>unknown_portal</code>');
    expect(known.headers['content-security-policy']).toMatch(/frame-ancestors https:\/\/new\.example\.com$/);
    // Not a host; and a host[:port] of 256 characters, one past the limit (a URL would take it).
    for (const domain of ['new.example.com%2Fpath%20*', `${'a'.repeat(247)}.com:8443`]) {
      const bad = await open(`DOMAIN=${domain}&PROTOCOL=1`, widgetBody('f0f0f0f0'));
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-security-policy']).toMatch(/frame-ancestors 'none'$/);
    }
  });

  it('allowFraming itself takes only a plain, bounded origin', async () => {
    const { app } = await buildTestApp(stack.testDb);
    app.get('/frame', async (request, reply) =>
      reply.allowFraming((request.query as { origin: string }).origin).send('ok'),
    );
    const csp = async (origin: string) =>
      (await app.inject({ url: `/frame?origin=${encodeURIComponent(origin)}` })).headers[
        'content-security-policy'
      ];
    expect(await csp('https://portal.example.com:8443')).toMatch(
      /frame-ancestors https:\/\/portal\.example\.com:8443$/,
    );
    for (const origin of [`https://${HUGE}`, 'https://a.example.com https://evil.example.com', "'self'"]) {
      expect(await csp(origin)).toContain("frame-ancestors 'none'");
    }
    await app.close();
  });
});
