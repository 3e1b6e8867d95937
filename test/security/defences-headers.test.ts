// Exact values of two defences every response carries (issue #18): the whole security header
// set (CSP and helmet's) and the per-portal rate limit on each POST route Bitrix24 or our forms
// reach. toContain would let `frame-ancestors <portal> *` or a removed preHandler through.
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { portalOrigin } from '../../src/bitrix24/portal-origin.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

const POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors";

/** helmet's answer as configured in plugins/security-headers.ts, byte for byte. */
const STATIC_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/** Headers any response carries that are no security policy (transport, body, rate-limit counters). */
const OTHER_HEADERS = /^(content-type|content-length|date|connection|keep-alive|x-ratelimit-.*)$/;

/** Every other header of a response: a policy helmet adds by mistake (COEP, X-Frame-Options) shows up. */
function securityHeaders(headers: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !OTHER_HEADERS.test(name)));
}

const form = (url: string, payload: string) => ({
  method: 'POST' as const,
  url,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload,
});

describe('security headers, whole values', () => {
  // Built per test (cheap): the headers are worked out when the app is built, and Stryker's
  // per-test coverage only sees code that runs inside a test or its beforeEach.
  let app: FastifyInstance;
  beforeEach(async () => {
    ({ app } = await buildTestApp(testDb));
  });
  afterEach(async () => app.close());

  it('a response nobody may frame: the whole CSP ends in frame-ancestors none, and helmet set exactly its set', async () => {
    const res = await app.inject('/healthz');
    expect(securityHeaders(res.headers)).toEqual({
      ...STATIC_HEADERS,
      'content-security-policy': `${POLICY} 'none'`,
    });
  });

  it('a page a portal frames names exactly that one origin (no wildcard, no second source)', async () => {
    // An install request the portal posts: invalid (no tokens), but its DOMAIN passed validation.
    const res = await app.inject(form('/install', 'member_id=abc&DOMAIN=x.bitrix24.com&PROTOCOL=1'));
    expect(res.statusCode).toBe(400);
    expect(securityHeaders(res.headers)).toEqual({
      ...STATIC_HEADERS,
      'content-security-policy': `${POLICY} https://x.bitrix24.com`,
    });
    const http = await app.inject(form('/install', 'member_id=abc&DOMAIN=p.example.com:8080&PROTOCOL=0'));
    expect(http.headers['content-security-policy']).toBe(`${POLICY} http://p.example.com:8080`);
  });

  it('a portal origin is made of exactly DOMAIN: anything URL parsing would change is no origin', () => {
    expect(portalOrigin('https', 'x.bitrix24.com')).toBe('https://x.bitrix24.com');
    expect(portalOrigin('http', 'P.Example.com:8080')).toBe('http://p.example.com:8080');
    for (const domain of ['x.com/evil', 'a@b.com', 'x.com:443', 'x.com?q', 'x.com#f', 'x.com:', ' x.com']) {
      expect(portalOrigin('https', domain), domain).toBeNull();
    }
    expect(portalOrigin('http', 'x.com:80')).toBeNull();
    expect(portalOrigin('https', 'bad host')).toBeNull();
  });

  it('an origin that is not plain keeps frame-ancestors none', async () => {
    // allowFraming is what every page route calls with the pinned origin; this route hands it anything.
    const { app: framed } = await buildTestApp(testDb);
    framed.get('/frame-test', async (request, reply) => {
      const origin = (request.query as { origin: string }).origin;
      return reply.allowFraming(origin).send({ ok: true });
    });
    const csp = async (origin: string) =>
      (await framed.inject({ url: '/frame-test', query: { origin } })).headers['content-security-policy'];
    expect(await csp('https://ok.example.com')).toBe(`${POLICY} https://ok.example.com`);
    for (const bad of [
      'https://a.example.com *',
      "https://a.example.com 'unsafe-inline'",
      'javascript://x',
      'https://a.example.com/path',
      `https://${'a'.repeat(256)}`,
      'https://a.example.com:123456',
      '*',
      'https://A.example.com;script-src *',
    ]) {
      expect(await csp(bad), bad).toBe(`${POLICY} 'none'`);
    }
    await framed.close();
  });
});

/** Each POST route and a body naming the portal as that route's real caller would. */
const ROUTES: [string, (member: string) => string][] = [
  ['/install', (m) => `member_id=${m}&DOMAIN=x.bitrix24.com&PROTOCOL=1`],
  ['/placements/settings', (m) => `member_id=${m}&DOMAIN=x.bitrix24.com&PROTOCOL=1`],
  ['/placements/block', (m) => `member_id=${m}&DOMAIN=x.bitrix24.com&PROTOCOL=1`],
  ['/', (m) => `member_id=${m}&DOMAIN=x.bitrix24.com&PROTOCOL=1`],
  ['/placements/settings/action', (m) => `ctx=${m}.forged&action=trash`],
  ['/placements/block/action', (m) => `ctx=${m}.forged&action=refresh`],
  ['/app/action', (m) => `ctx=${m}.forged&action=resync`],
  [
    '/events',
    (m) => `event=ONTEST&auth[domain]=x.bitrix24.com&auth[member_id]=${m}&auth[application_token]=a`,
  ],
];

describe('per-portal rate limit on every POST route', () => {
  it.each(ROUTES)(
    '%s: the 4th request for one portal within a minute is refused, another portal is not',
    async (url, body) => {
      const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '3', RATE_LIMIT_PER_IP: '1000' });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1)
        statuses.push((await app.inject(form(url, body('busyportal')))).statusCode);
      expect(statuses.slice(0, 3)).not.toContain(429);
      expect(statuses[3]).toBe(429);
      const refused = await app.inject(form(url, body('busyportal')));
      expect(refused.statusCode).toBe(429);
      const code =
        refused.headers['content-type']?.toString().startsWith('text/html') === true
          ? /<code>([^<]+)<\/code>/.exec(refused.body)?.[1]
          : refused.json().error;
      expect(code).toBe('rate_limited');
      expect((await app.inject(form(url, body('quietportal')))).statusCode).not.toBe(429);
      await app.close();
    },
  );

  it('a member_id longer than 64 characters is not a portal: such requests are counted per address', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '3', RATE_LIMIT_PER_IP: '1000' });
    const statuses = async (length: number) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        // Each request names another made-up portal of this length.
        const member = `${i}`.padEnd(length, 'x');
        out.push((await app.inject(form('/events', ROUTES[7]![1](member)))).statusCode);
      }
      return out;
    };
    expect(await statuses(64)).not.toContain(429);
    expect((await statuses(65))[3]).toBe(429);
    await app.close();
  });

  it('the per-address limit is exactly RATE_LIMIT_PER_IP and also covers the app page', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '2', RATE_LIMIT_PER_PORTAL: '1000' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await app.inject({ method: 'GET', url: '/' })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    await app.close();
  });

  it('a JSON body that is no object (null, a number) names no portal: counted per address, never a crash', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '3', RATE_LIMIT_PER_IP: '1000' });
    const statuses: number[] = [];
    for (const payload of ['null', '5', 'null', '"text"']) {
      const res = await app.inject({
        method: 'POST',
        url: '/events',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 3)).not.toContain(429);
    expect(statuses.some((s) => s >= 500)).toBe(false);
    expect(statuses[3]).toBe(429);
    await app.close();
  });

  it('the health check is never limited: probes must not be refused', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '2', RATE_LIMIT_PER_PORTAL: '1000' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await app.inject('/healthz')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200]);
    await app.close();
  });

  it('a form counts for the portal its context names, whatever its seal; the name is cut at 64 characters', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '3', RATE_LIMIT_PER_IP: '1000' });
    const post = (ctx: string) => app.inject(form('/app/action', `ctx=${ctx}&action=resync`));
    // Four different seals of one portal: one counter.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(`sealedportal.seal${i}`)).statusCode);
    expect(statuses.slice(0, 3)).not.toContain(429);
    expect(statuses[3]).toBe(429);
    // Names equal in their first 64 characters are one portal: a long name buys no new counter.
    const long = 'p'.repeat(64);
    const more: number[] = [];
    for (let i = 0; i < 4; i += 1) more.push((await post(`${long}${i}.seal`)).statusCode);
    expect(more.slice(0, 3)).not.toContain(429);
    expect(more[3]).toBe(429);
    await app.close();
  });
});
