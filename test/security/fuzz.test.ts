// Thousands of random and mutated payloads to every POST route. Whatever arrives: never a 5xx,
// the server keeps answering, stored data does not change, no prototype is polluted. Forged
// domains, forged tokens and tampered page contexts each get their one exact refusal.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalDomain } from '../../src/bitrix24/payloads.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let validInstall: [string, string][];
let validInstallQuery: string;
let validWidget: [string, string][];
let validWidgetQuery: string;
let ctx: string;
let memberId: string;
let portalHost: string;
/** A real widget payload per POST route that opens a page (each with its own placement). */
const opened: Record<string, { body: [string, string][]; query: string; ctx: string }> = {};

beforeAll(async () => {
  // Every mutated AUTH_ID costs one verification call; roomy buckets keep the run about the app, not pacing.
  stack = await startStack({
    emulator: { limits: { bucketSize: 1_000_000, drainPerSecond: 100_000 } },
    env: {
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_PORTAL: '1000000',
      B24_RATE_LIMIT_BURST: '1000000',
      B24_RATE_LIMIT_PER_SECOND: '100000',
      LOG_LEVEL: 'warn',
    },
  });
  memberId = stack.emulator.portal().memberId;
  portalHost = stack.emulator.portal().domain;
  const install = await stack.emulator.installApp(memberId);
  // Same shape, but tokens the OAuth server never issued: no mutation can become a real reinstall.
  validInstall = install.payload.body.map(([k, v]): [string, string] =>
    k === 'REFRESH_ID' || k === 'AUTH_ID' ? [k, v.replace(/./g, (c) => (c === 'f' ? '0' : 'f'))] : [k, v],
  );
  validInstallQuery = new URL(install.payload.action).search;
  stack.emulator.finishInstall(memberId);
  const widget = await stack.emulator.openPlacement(memberId, { placement: 'LANDING_SETTINGS' });
  validWidget = widget.payload.body;
  validWidgetQuery = new URL(widget.payload.action).search;
  ctx = /name="ctx" value="([^"]+)"/.exec(widget.body)?.[1] ?? '';
  const block = await stack.emulator.openPlacement(memberId, { placement: 'LANDING_BLOCK_*', blockId: 999 });
  const app = await stack.emulator.openApp(memberId);
  for (const [route, page] of [
    ['/placements/settings', widget],
    ['/placements/block', block],
    ['/', app],
  ] as const) {
    expect(page.status, route).toBe(200);
    const pageCtx = /name="ctx" value="([^"]+)"/.exec(page.body)?.[1];
    expect(pageCtx, route).toBeDefined();
    opened[route] = { body: page.payload.body, query: new URL(page.payload.action).search, ctx: pageCtx! };
  }
});
afterAll(async () => stack?.close());

const ROUTES = [
  '/install',
  '/events',
  '/placements/settings',
  '/placements/block',
  '/placements/settings/action',
  '/placements/block/action',
  '/',
  '/app/action',
];
const KEYS = [
  'DOMAIN',
  'PROTOCOL',
  'LANG',
  'APP_SID',
  'AUTH_ID',
  'AUTH_EXPIRES',
  'REFRESH_ID',
  'member_id',
  'status',
  'PLACEMENT',
  'PLACEMENT_OPTIONS',
  'APPLICATION_TOKEN',
  'event',
  'data[CLEAN]',
  'auth[member_id]',
  'auth[application_token]',
  'auth[domain]',
  'auth[refresh_token]',
  'auth[__proto__][polluted]',
  '__proto__[polluted]',
  'constructor[prototype][polluted]',
  'auth[member_id][]',
  'data[a][b][c][d][e][f][g]',
  'ctx',
  'action',
  'type',
  'confirm',
  'a[][][]',
  'hasOwnProperty',
  'toString',
];

const value = fc.oneof(
  { arbitrary: fc.string(), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      '',
      '0',
      '1',
      '-1',
      '1e309',
      'NaN',
      'null',
      '[]',
      '{}',
      '{"SITE_ID":"30"',
      '{"SITE_ID":[1]}',
      '{"__proto__":{"polluted":1}}',
      'LANDING_SETTINGS',
      'landing_block_*',
      'ONAPPUNINSTALL',
      '%E0%A4%A',
      '\u0000',
    ),
    weight: 4,
  },
  { arbitrary: fc.constantFrom(1_000, 20_000, 300_000).map((n) => 'x'.repeat(n)), weight: 1 },
  { arbitrary: fc.json(), weight: 2 },
);

/** A form body as raw text: may contain broken percent-escapes and invalid UTF-8 sequences. */
const rawForm = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 20 })), value), { maxLength: 20 })
  .chain((pairs) =>
    fc
      .constantFrom('plain', 'broken')
      .map((mode) =>
        pairs
          .map(
            ([k, v]) =>
              `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${mode === 'broken' ? `${v}%C3%28%FF` : encodeURIComponent(v)}`,
          )
          .join('&'),
      ),
  );

/** A valid payload with some fields replaced, removed or duplicated. */
function mutated(base: () => [string, string][]) {
  return fc
    .array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'remove', 'duplicate'), value), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      let fields = [...base()];
      for (const [index, op, v] of edits) {
        const i = index % Math.max(fields.length, 1);
        const key = fields[i]?.[0] ?? 'x';
        if (op === 'replace') fields[i] = [key, v];
        else if (op === 'remove') fields = fields.filter((_, j) => j !== i);
        else fields.push([`${key}[]`, v]);
      }
      return new URLSearchParams(fields).toString();
    });
}

const request = fc.oneof(
  fc.record({
    route: fc.constantFrom(...ROUTES),
    query: fc.constant(''),
    type: fc.constant('form'),
    body: rawForm,
  }),
  fc.record({
    route: fc.constant('/install'),
    query: fc.constant('install'),
    type: fc.constant('form'),
    body: mutated(() => validInstall),
  }),
  fc.record({
    route: fc.constantFrom('/placements/settings', '/placements/block'),
    query: fc.constant('widget'),
    type: fc.constant('form'),
    body: mutated(() => validWidget),
  }),
  fc.record({
    route: fc.constantFrom('/placements/settings/action', '/placements/block/action'),
    query: fc.constant(''),
    type: fc.constant('form'),
    body: mutated(() => [
      ['ctx', ctx],
      ['action', 'trash'],
      ['confirm', 'no'],
    ]),
  }),
  fc.record({
    route: fc.constantFrom(...ROUTES),
    query: fc.constant(''),
    type: fc.constant('json'),
    body: fc.json(),
  }),
);

async function storedState() {
  const db = stack.testDb.db;
  return JSON.stringify({
    installations: await db.installation.findMany({ orderBy: { id: 'asc' } }),
    tokens: await db.oAuthToken.findMany({ orderBy: { installationId: 'asc' } }),
    bindings: await db.binding.findMany({ orderBy: { id: 'asc' } }),
    options: await db.appOption.findMany({ orderBy: { key: 'asc' } }),
  });
}

describe('fuzzing every route', () => {
  it('never answers 5xx, never changes stored data, never pollutes prototypes', async () => {
    const before = await storedState();
    const portalBefore = JSON.stringify(stack.emulator.inspect().sites);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ route, query, type, body }) => {
        const search = query === 'install' ? validInstallQuery : query === 'widget' ? validWidgetQuery : '';
        const res = await stack.app.inject({
          method: 'POST',
          url: `${route}${search}`,
          headers: {
            'content-type': type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          },
          payload: type === 'json' ? JSON.stringify(body) : (body as string),
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${route} answered ${res.statusCode}: ${res.body.slice(0, 300)}`).toBeLessThan(
          500,
        );
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 2500, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
    );
    expect((await stack.app.inject('/healthz')).statusCode).toBe(200);
    expect(await storedState()).toBe(before);
    expect(JSON.stringify(stack.emulator.inspect().sites)).toBe(portalBefore);
    expect(Object.keys(Object.prototype)).toEqual([]);
    // The run exercised refusals of many kinds, not one.
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});

// ---- Exact refusals: each forged or tampered request is refused with its one status and code.

/** A host the portal is not, yet valid for the payload schema: only the domain pin can refuse it. */
const forgedDomain = () =>
  fc
    .tuple(fc.domain(), fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }))
    .map(([host, port]) => (port === undefined ? host : `${host}:${port}`))
    .filter((d) => {
      const parsed = portalDomain.safeParse(d);
      return parsed.success && parsed.data !== portalHost;
    });
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Between min and max characters of `alphabet` (a regex-driven arbitrary costs more to generate). */
const chars = (alphabet: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
/** Token-shaped (passes the schema), never issued by the OAuth server. */
const forgedToken = chars(`${B64}.`, 8, 128);

/** Ways to alter a sealed context; each must break its seal (see the comments for why). */
function tampered(base: string) {
  const dot = base.indexOf('.');
  const sealed = base.length - dot - 1;
  return fc.oneof(
    // One character of the seal, never the last: its low bits may be padding that decodes alike.
    fc.tuple(fc.nat(), fc.nat({ max: 63 })).map(([i, c]) => {
      const j = dot + 1 + (i % (sealed - 1));
      const replacement = B64[c] === base[j] ? B64[(c + 1) % 64] : B64[c];
      return `${base.slice(0, j)}${replacement}${base.slice(j + 1)}`;
    }),
    // Cut short anywhere: a valid base64url length loses at least one byte.
    fc.nat().map((i) => base.slice(0, i % base.length)),
    // Two or more base64url characters added: at least one byte more.
    chars(B64, 2, 8).map((tail) => `${base}${tail}`),
    // Another portal named in front: the name is bound to the seal.
    chars(B64, 1, 64)
      .filter((m) => m !== memberId)
      .map((m) => `${m}${base.slice(dot)}`),
    // A seal that is not ours.
    chars(B64, 40, 400).map((seal) => `${memberId}.${seal}`),
  );
}

/** The fields with `changes` set (added to the body: the body wins over the query). */
function withFields(base: [string, string][], changes: Record<string, string>): string {
  const fields = base.filter(([k]) => !(k in changes));
  for (const [k, v] of Object.entries(changes)) fields.push([k, v]);
  return new URLSearchParams(fields).toString();
}

const WIDGET_ROUTES = ['/placements/settings', '/placements/block', '/'] as const;
const ACTION_OF = {
  '/placements/settings': '/placements/settings/action',
  '/placements/block': '/placements/block/action',
  '/': '/app/action',
} as const;

interface Forged {
  what: string;
  route: string;
  search: string;
  body: string;
  status: number;
  code: string;
}

/** 64 forged addresses, drawn once per run from the same seed. */
let pool: string[] | undefined;
const addressPool = () =>
  fc.constant(null).chain(() => {
    pool ??= fc.sample(forgedDomain(), { numRuns: 64, seed: Number(process.env.FUZZ_SEED ?? 20261204) });
    return fc.constantFrom(...pool);
  });

/** Cheap refusals (nothing asked of the portal or the database) weigh more than the rest. */
const forged: fc.Arbitrary<Forged> = fc.oneof(
  // A widget or app page naming another portal's address with the real user's token. The
  // addresses come from a pool: the first request naming one asks the OAuth server whether the
  // portal moved (a token refresh); repeats must be refused without asking again.
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...WIDGET_ROUTES), addressPool()).map(([route, domain]) => ({
      what: 'forged domain',
      route,
      search: opened[route]!.query,
      body: withFields(opened[route]!.body, { DOMAIN: domain }),
      status: 403,
      code: 'domain_mismatch',
    })),
  },
  // The portal's own address with a token its portal never issued.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...WIDGET_ROUTES), forgedToken).map(([route, token]) => ({
      what: 'forged AUTH_ID',
      route,
      search: opened[route]!.query,
      body: withFields(opened[route]!.body, { AUTH_ID: token }),
      status: 401,
      code: 'invalid_user_token',
    })),
  },
  // Install with tokens the OAuth server never issued, on the real or another address.
  {
    weight: 1,
    arbitrary: fc
      .tuple(forgedToken, forgedToken, fc.option(forgedDomain(), { nil: undefined }))
      .map(([auth, refresh, domain]) => ({
        what: 'forged install tokens',
        route: '/install',
        search: validInstallQuery,
        body: withFields(validInstall, {
          AUTH_ID: auth,
          REFRESH_ID: refresh,
          ...(domain ? { DOMAIN: domain } : {}),
        }),
        status: 403,
        code: 'install_not_verified',
      })),
  },
  // An uninstall event for the installed portal not signed with its application token.
  {
    weight: 1,
    arbitrary: fc
      .tuple(chars(B64.slice(0, 62), 1, 128), fc.option(forgedDomain(), { nil: undefined }))
      .filter(([token]) => token !== applicationToken)
      .map(([token, domain]) => ({
        what: 'forged application_token',
        route: '/events',
        search: '',
        body: new URLSearchParams({
          event: 'ONAPPUNINSTALL',
          'data[CLEAN]': '1',
          'auth[member_id]': memberId,
          'auth[domain]': domain ?? portalHost,
          'auth[application_token]': token,
        }).toString(),
        status: 401,
        code: 'invalid_application_token',
      })),
  },
  // An install event carrying a refresh token the OAuth server never issued.
  {
    weight: 1,
    arbitrary: forgedToken.map((token) => ({
      what: 'forged event refresh_token',
      route: '/events',
      search: '',
      body: new URLSearchParams({
        event: 'ONAPPINSTALL',
        'auth[member_id]': memberId,
        'auth[domain]': portalHost,
        'auth[access_token]': token,
        'auth[refresh_token]': token,
        'auth[application_token]': 'forged0',
        'auth[client_endpoint]': `http://${portalHost}/rest/`,
      }).toString(),
      status: 403,
      code: 'install_not_verified',
    })),
  },
  // An action posted with a context that was altered.
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...WIDGET_ROUTES)
      .chain((page) => tampered(opened[page]!.ctx).map((token) => ({ page, token })))
      .map(({ page, token }) => ({
        what: 'tampered context',
        route: ACTION_OF[page],
        search: '',
        body: new URLSearchParams({ ctx: token, action: 'trash' }).toString(),
        status: 403,
        code: 'invalid_context',
      })),
  },
  // A genuine context of another page: sealed by us, but for another placement.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...WIDGET_ROUTES), fc.constantFrom(...WIDGET_ROUTES))
      .filter(([from, to]) => from !== to)
      .map(([from, to]) => ({
        what: 'context of another page',
        route: ACTION_OF[to],
        search: '',
        body: new URLSearchParams({ ctx: opened[from]!.ctx, action: 'trash' }).toString(),
        status: 400,
        code: 'placement_mismatch',
      })),
  },
);

let applicationToken: string | null = null;

/**
 * Stored state without the token rotation: a widget naming another address makes the app ask
 * the OAuth server whether the portal moved (Installer.confirmAddress refreshes the tokens),
 * which rotates them (and learns whose they are) and changes nothing else.
 */
async function storedStateButRotation() {
  const db = stack.testDb.db;
  const tokens = await db.oAuthToken.findMany({ orderBy: { installationId: 'asc' } });
  return JSON.stringify({
    installations: await db.installation.findMany({ orderBy: { id: 'asc' } }),
    // userId too: an install stores the posted pair without it, and the rotation's answer names it.
    tokens: tokens.map(({ installationId, refreshLeaseOwner }) => ({ installationId, refreshLeaseOwner })),
    bindings: await db.binding.findMany({ orderBy: { id: 'asc' } }),
    options: await db.appOption.findMany({ orderBy: { key: 'asc' } }),
  });
}
const tokenVersion = async () => (await stack.testDb.db.oAuthToken.findFirst({ where: {} }))?.version ?? -1;

/** The machine-readable code of an answer: JSON's `error`, or the error page's <code>. */
function codeOf(res: { headers: Record<string, unknown>; body: string }): string | undefined {
  if (String(res.headers['content-type']).startsWith('application/json')) return JSON.parse(res.body).error;
  return /<code>([^<]+)<\/code>/.exec(res.body)?.[1];
}

describe('forged and tampered requests', () => {
  it('each is refused with its exact status and code, over every POST route, changing nothing', async () => {
    applicationToken = (await stack.app.installations.find(memberId))?.applicationToken ?? null;
    expect(applicationToken).not.toBeNull();
    const before = await storedStateButRotation();
    const versionBefore = await tokenVersion();
    const portalBefore = JSON.stringify(stack.emulator.inspect());
    const seen = new Map<string, number>();
    const namedDomains = new Set<string>();
    await fc.assert(
      fc.asyncProperty(forged, async (c) => {
        const res = await stack.app.inject({
          method: 'POST',
          url: `${c.route}${c.search}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: c.body,
        });
        const answer = `${c.what} to ${c.route}: ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect({ status: res.statusCode, code: codeOf(res) }, answer).toEqual({
          status: c.status,
          code: c.code,
        });
        seen.set(`${c.what} ${c.route}`, (seen.get(`${c.what} ${c.route}`) ?? 0) + 1);
        if (c.what === 'forged domain') namedDomains.add(new URLSearchParams(c.body).get('DOMAIN')!);
      }),
      { numRuns: 10_000, seed: Number(process.env.FUZZ_SEED ?? 20261204) },
    );
    expect(await storedStateButRotation()).toBe(before);
    // Only a page naming another address may cost a refresh, at most once per address named.
    expect(await tokenVersion()).toBeLessThanOrEqual(versionBefore + namedDomains.size);
    expect(JSON.stringify(stack.emulator.inspect())).toBe(portalBefore);
    // Every kind reached every route it applies to.
    const routes = new Set([...seen.keys()].map((k) => k.slice(k.lastIndexOf(' ') + 1)));
    expect([...routes].sort()).toEqual([...ROUTES].sort());
    expect(seen.size).toBe(3 + 3 + 1 + 1 + 1 + 3 + 3);
  }, 240_000);
});
