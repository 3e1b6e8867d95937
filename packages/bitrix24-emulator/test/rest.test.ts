import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorClock, startEmulator } from '../src/index.js';
import { frozenEmulator, rest } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;

beforeAll(async () => {
  env = await frozenEmulator({
    apps: [
      { clientId: 'local.emulator-app', clientSecret: 'emulator-secret' },
      { clientId: 'local.narrow', clientSecret: 's2', scope: 'landing' },
    ],
  });
});
afterAll(() => env.emulator.close());

describe('REST envelope and transport', () => {
  it('answers {result, time} with the full time block', async () => {
    const r = await env.call('user.current');
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ ID: '1', NAME: 'Anna', ACTIVE: true });
    expect(Object.keys(r.body.time).sort()).toEqual(
      [
        'date_finish',
        'date_start',
        'duration',
        'finish',
        'operating',
        'operating_reset_at',
        'processing',
        'start',
      ].sort(),
    );
    expect(r.body.time.start).toBe(env.clock.now() / 1000);
    expect(r.body.time.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(r.body.time.operating_reset_at).toBe(Math.floor(env.clock.now() / 1000) + 600);
  });

  it('accepts the method with and without .json, auth in query, and mixed-case names', async () => {
    const a = await rest(
      env.portal.clientEndpoint,
      'user.current',
      {},
      { query: `auth=${env.admin.access_token}` },
    );
    expect(a.body.result.ID).toBe('1');
    const b = await rest(env.portal.clientEndpoint, 'USER.Current.json', { auth: env.admin.access_token });
    expect(b.body.result.ID).toBe('1');
    const get = await fetch(`${env.portal.clientEndpoint}app.info.json?auth=${env.admin.access_token}`);
    expect((await get.json()).result.CODE).toBe('local.emulator-app');
  });

  it('parses PHP-style bracketed form bodies into nested params', async () => {
    const form = new URLSearchParams({
      auth: env.admin.access_token,
      'fields[PLACEMENT]': ' landing_settings ',
      'fields[PLACEMENT_HANDLER]': 'https://app.example/form',
      'fields[TITLE]': 'Form bound',
    }).toString();
    const r = await rest(env.portal.clientEndpoint, 'landing.repo.bind.json', {}, { form });
    expect(r.body).toMatchObject({ result: true });
    const snap = env.emulator.inspect();
    const p = snap.apps[0]?.placements.find((x) => x.handler === 'https://app.example/form');
    expect(p).toMatchObject({ placement: 'LANDING_SETTINGS', title: 'Form bound' });
    const opt = new URLSearchParams({ auth: env.admin.access_token, 'options[a]': 'b', 'options[c][]': '1' });
    await rest(env.portal.clientEndpoint, 'app.option.set', {}, { form: opt.toString() });
    expect(env.emulator.inspect().apps[0]?.options).toMatchObject({ a: 'b', c: ['1'] });
  });

  it('answers CORS preflight for browser callers', async () => {
    const res = await fetch(`${env.portal.clientEndpoint}user.current`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:1', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type');
  });
});

describe('REST errors', () => {
  it('NO_AUTH_FOUND for missing and unknown tokens', async () => {
    for (const auth of [undefined, 'garbage']) {
      const r = await rest(env.portal.clientEndpoint, 'user.current', auth ? { auth } : {});
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' });
    }
  });

  it('ERROR_METHOD_NOT_FOUND 404 for unknown methods', async () => {
    const r = await env.call('crm.deal.list');
    expect(r.status).toBe(404);
    expect(r.body.error).toBe('ERROR_METHOD_NOT_FOUND');
  });

  it('insufficient_scope 403 when the app lacks the scope', async () => {
    const narrow = env.emulator.issueTokens(env.portal.memberId, 1, 'local.narrow');
    const r = await env.call('user.current', {}, narrow.access_token);
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('insufficient_scope');
    expect((await env.call('landing.site.getList', {}, narrow.access_token)).status).toBe(200);
  });

  it('MISSING_PARAMS 400 with the missing name', async () => {
    const r = await env.call('landing.syspage.set', { type: 'catalog' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'MISSING_PARAMS',
      error_description: 'Insufficient call parameters, missing: id',
    });
  });

  it('webhooks authenticate by path and have no application context', async () => {
    const hook = env.emulator.addWebhook(env.portal.memberId, 1);
    const ok = await rest(hook, 'user.current.json', {});
    expect(ok.body.result.ID).toBe('1');
    const bind = await rest(hook, 'landing.repo.bind', {
      fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: 'https://x.test/h' },
    });
    expect(bind.status).toBe(400);
    expect(bind.body).toEqual({
      error: 'ACCESS_DENIED',
      error_description: 'Only an application can manage embedding locations',
    });
    const bad = await rest(hook.replace(/\/[^/]+\/$/, '/wrong/'), 'user.current', {});
    expect(bad.body.error).toBe('NO_AUTH_FOUND');
  });
});

describe('list methods', () => {
  it('pages by 50 with start, next and total', async () => {
    const users = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, admin: i === 0 }));
    const e = await startEmulator({ portals: [{ users }] });
    try {
      const t = e.issueTokens();
      const p1 = await rest(e.portal().clientEndpoint, 'user.get', { auth: t.access_token });
      expect(p1.body.result).toHaveLength(50);
      expect(p1.body).toMatchObject({ next: 50, total: 120 });
      const p3 = await rest(e.portal().clientEndpoint, 'user.get', { auth: t.access_token, start: 100 });
      expect(p3.body.result).toHaveLength(20);
      expect(p3.body.next).toBeUndefined();
      expect(p3.body.total).toBe(120);
    } finally {
      await e.close();
    }
  });
});

describe('leaky bucket', () => {
  it('with X=50, Y=2 and a frozen clock a burst of 60 gets exactly 10 503s', async () => {
    const e = await startEmulator({
      clock: new EmulatorClock({ frozen: true }),
      limits: { bucketSize: 50, drainPerSecond: 2 },
    });
    try {
      const t = e.issueTokens();
      const ep = e.portal().clientEndpoint;
      const answers = await Promise.all(
        Array.from({ length: 60 }, () => rest(ep, 'user.current', { auth: t.access_token })),
      );
      const refused = answers.filter((a) => a.status === 503);
      expect(refused).toHaveLength(10);
      expect(refused[0]?.body).toEqual({
        error: 'QUERY_LIMIT_EXCEEDED',
        error_description: 'Too many requests',
      });
      expect(answers.filter((a) => a.status === 200)).toHaveLength(50);
      expect(e.stats.portal().responses503).toBe(10);
      expect(e.stats.portal().restRequests).toBe(60);
      // Refused requests did not fill the bucket further.
      expect(e.bucketLevel()).toBe(50);
      // Two requests drain per second: after 1 s exactly two more get through.
      e.clock.advance(1);
      const next = await Promise.all(
        Array.from({ length: 3 }, () => rest(ep, 'user.current', { auth: t.access_token })),
      );
      expect(next.map((a) => a.status).sort()).toEqual([200, 200, 503]);
    } finally {
      await e.close();
    }
  });

  it('keeps one bucket per portal', async () => {
    const e = await startEmulator({
      clock: new EmulatorClock({ frozen: true }),
      limits: { bucketSize: 2 },
      portals: [{ memberId: 'a'.repeat(32) }, { memberId: 'b'.repeat(32) }],
    });
    try {
      const [a, b] = e.portals;
      const ta = e.issueTokens(a?.memberId);
      const tb = e.issueTokens(b?.memberId);
      for (let i = 0; i < 2; i++)
        expect((await rest(a!.clientEndpoint, 'user.current', { auth: ta.access_token })).status).toBe(200);
      expect((await rest(a!.clientEndpoint, 'user.current', { auth: ta.access_token })).status).toBe(503);
      expect((await rest(b!.clientEndpoint, 'user.current', { auth: tb.access_token })).status).toBe(200);
      // A token only works on its own portal.
      e.resetLimits();
      expect((await rest(b!.clientEndpoint, 'user.current', { auth: ta.access_token })).body.error).toBe(
        'NO_AUTH_FOUND',
      );
      expect(a?.domain).not.toBe(b?.domain);
    } finally {
      await e.close();
    }
  });
});

describe('operating limit', () => {
  it('reports summed time per method and blocks past 480 s within 10 minutes', async () => {
    const e = await startEmulator({
      clock: new EmulatorClock({ frozen: true }),
      methodTimes: { 'landing.site.getList': 100 },
    });
    try {
      const t = e.issueTokens();
      const ep = e.portal().clientEndpoint;
      const ops: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await rest(ep, 'landing.site.getList', { auth: t.access_token });
        expect(r.status).toBe(200);
        ops.push(r.body.time.operating);
        e.clock.advance(10);
      }
      expect(ops).toEqual([100, 200, 300, 400, 500]);
      const blocked = await rest(ep, 'landing.site.getList', { auth: t.access_token });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error).toBe('OPERATION_TIME_LIMIT');
      // Other methods keep working.
      expect((await rest(ep, 'user.current', { auth: t.access_token })).status).toBe(200);
      e.clock.advance(600);
      expect((await rest(ep, 'landing.site.getList', { auth: t.access_token })).status).toBe(200);
    } finally {
      await e.close();
    }
  });

  it('blocks the method on that portal only, for every caller there', async () => {
    const e = await startEmulator({
      clock: new EmulatorClock({ frozen: true }),
      portals: [{ memberId: 'op0000a' }, { memberId: 'op0000b' }],
      methodTimes: { 'landing.site.getList': 481 },
    });
    try {
      const [a, b] = ['op0000a', 'op0000b'].map((m) => ({
        ep: e.portal(m).clientEndpoint,
        token: e.issueTokens(m).access_token,
      }));
      expect((await rest(a!.ep, 'landing.site.getList', { auth: a!.token })).status).toBe(200);
      expect((await rest(a!.ep, 'landing.site.getList', { auth: a!.token })).status).toBe(429);
      const hook = e.addWebhook('op0000a');
      expect((await rest(hook, 'landing.site.getList')).status).toBe(429);
      expect((await rest(b!.ep, 'landing.site.getList', { auth: b!.token })).status).toBe(200);
    } finally {
      await e.close();
    }
  });
});
