// Thousands of random and mutated payloads to every route. Whatever arrives: never a 5xx,
// the server keeps answering, stored data does not change, no prototype is polluted.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let validInstall: [string, string][];
let validInstallQuery: string;
let validWidget: [string, string][];
let validWidgetQuery: string;
let ctx: string;

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
  const memberId = stack.emulator.portal().memberId;
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
});
afterAll(async () => stack?.close());

const ROUTES = [
  '/install',
  '/events',
  '/placements/settings',
  '/placements/block',
  '/placements/settings/action',
  '/placements/block/action',
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
