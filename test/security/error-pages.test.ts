// The error pages of plugins/error-handler.ts (issue #18): a portal failure that reaches the top
// of a page route becomes a page in the user's language with our status and code, the portal's
// answer as the hint, framed only by the portal; the same failure on a JSON route is JSON.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessError,
  AuthError,
  type Bitrix24Error,
  ParameterError,
  PaymentRequiredError,
  RateLimitError,
  ReinstallRequiredError,
  TransientError,
  UnexpectedResponseError,
} from '../../src/bitrix24/errors.js';
import { translator } from '../../src/i18n.js';
import { retryAfterSeconds, STATES, statePage } from '../../src/plugins/error-states.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
let app: FastifyInstance;

const init = (code: string, status: number) => ({
  code,
  status,
  description: 'portal detail',
  method: 'landing.site.getList',
});

/** [kind, the error, our status, our code, the sentence after "Bitrix24 answered …"]. */
const CASES: [string, Bitrix24Error, number, string, string][] = [
  [
    'reinstall',
    new ReinstallRequiredError(init('NO_AUTH_FOUND', 401)),
    403,
    'needs_reinstall',
    'The app has lost access to this portal.',
  ],
  [
    'payment',
    new PaymentRequiredError(init('PAYMENT_REQUIRED', 402)),
    403,
    'payment_required',
    'The app’s subscription on this portal has expired; a portal administrator can renew it.',
  ],
  [
    'auth',
    new AuthError(init('expired_token', 401)),
    401,
    'portal_auth_failed',
    'The portal did not accept the token.',
  ],
  [
    'access',
    new AccessError(init('ACCESS_DENIED', 403)),
    403,
    'portal_access_denied',
    'The portal refused this.',
  ],
  [
    'rate limit',
    new RateLimitError(init('QUERY_LIMIT_EXCEEDED', 503)),
    503,
    'portal_unavailable',
    'The portal is busy or unreachable.',
  ],
  [
    'transient',
    new TransientError(init('HTTP_502', 502)),
    503,
    'portal_unavailable',
    'The portal is busy or unreachable.',
  ],
  [
    'parameter',
    new ParameterError(init('ERROR_ARGUMENT', 400)),
    502,
    'portal_error',
    'The portal could not do this.',
  ],
  [
    'unexpected',
    new UnexpectedResponseError(init('ERROR_UNEXPECTED_ANSWER', 200)),
    502,
    'portal_error',
    'The portal could not do this.',
  ],
];

beforeAll(async () => {
  testDb = await createTestDatabase();
  ({ app } = await buildTestApp(testDb));
  for (const [kind, error] of CASES) {
    app.post(`/page/${kind.replace(' ', '-')}`, { config: { html: true } }, async () => {
      throw error;
    });
    app.post(`/json/${kind.replace(' ', '-')}`, async () => {
      throw error;
    });
  }
});
afterAll(async () => {
  await app?.close();
  await testDb?.close();
});

/** The handler's own sentence: ours, then what the portal answered (and "Try again." when it may help). */
const full = (error: Bitrix24Error, code: string, sentence: string) =>
  `${sentence} Bitrix24 answered ${error.code} to ${error.method}.${code === 'portal_unavailable' ? ' Try again.' : ''}`;

const decode = (s: string) =>
  s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** What the error view shows: heading, sentence and detail, what next, code. */
function page(html: string) {
  const text = (re: RegExp) => decode(re.exec(html)?.[1] ?? '');
  return {
    title: text(/<h1[^>]*>([^<]*)<\/h1>/),
    texts: [
      text(/<p class="card__text" data-state-message>([^<]*)<\/p>/),
      text(/<span data-state-detail[^>]*>([^<]*)<\/span>/),
    ].filter(Boolean),
    next: text(/<p class="card__text" data-state-next>([^<]*)<\/p>/),
    code: /<code>([^<]*)<\/code>/.exec(html)?.[1],
  };
}

const post = (url: string, query = 'DOMAIN=portal.example.com&PROTOCOL=1&LANG=en') =>
  app.inject({
    method: 'POST',
    url: `${url}?${query}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'x=1',
  });

describe('a portal failure on a page route is an error page', () => {
  it.each(CASES)(
    '%s: status, localized sentence, the portal’s answer, the code, framed by the portal',
    async (kind, error, status, code, sentence) => {
      const res = await post(`/page/${kind.replace(' ', '-')}`);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const t = translator('en');
      const state = statePage(code, status).state;
      expect(page(res.body)).toEqual({
        title: t(`state.${state}.title`),
        texts: [t(`errors.${code}`), full(error, code, sentence)],
        next: t(`state.${state}.next`),
        code,
      });
      expect(t(`state.${state}.next`)).not.toBe(`state.${state}.next`);
      expect(t(`errors.${code}`)).not.toBe(`errors.${code}`);
      expect(res.headers['content-security-policy']).toMatch(
        /; frame-ancestors https:\/\/portal\.example\.com$/,
      );
      // The portal's own description may echo parameters: it is not shown.
      expect(res.body).not.toContain('portal detail');
    },
  );

  it('in the user’s language (LANG from the query)', async () => {
    const res = await post('/page/access', 'DOMAIN=portal.example.com&PROTOCOL=1&LANG=de');
    const t = translator('de');
    expect(page(res.body).title).toBe(t('state.refused.title'));
    expect(page(res.body).title).not.toBe(translator('en')('state.refused.title'));
    expect(page(res.body).texts[0]).toBe(t('errors.portal_access_denied'));
    expect(t('errors.portal_access_denied')).not.toBe(translator('en')('errors.portal_access_denied'));
  });

  it('without a valid DOMAIN nobody may frame the page', async () => {
    const res = await post('/page/auth', 'DOMAIN=evil.example.com%20*&PROTOCOL=1');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-security-policy']).toMatch(/; frame-ancestors 'none'$/);
  });
});

describe('the same failure on a JSON route', () => {
  it.each(CASES)(
    '%s: JSON with our status, code and sentence',
    async (kind, error, status, code, sentence) => {
      const res = await post(`/json/${kind.replace(' ', '-')}`);
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual({ error: code, message: full(error, code, sentence) });
    },
  );
});

const codeOf = (html: string) => /<code>([^<]*)<\/code>/.exec(html)?.[1];

describe('state pages (issue #21)', () => {
  it('every state has a heading and a "what next" in every language', () => {
    const en = translator('en');
    for (const state of STATES) {
      for (const part of ['title', 'next']) {
        const key = `state.${state}.${part}`;
        expect(en(key), key).not.toBe(key);
        for (const lang of ['ru', 'de']) {
          const text = translator(lang)(key);
          // Its own wording, not the English fallback, and no placeholder left but {seconds}.
          expect(text, `${lang} ${key}`).not.toBe(en(key));
          expect(text.replace('{seconds}', ''), `${lang} ${key}`).not.toMatch(/[{}]/);
        }
      }
    }
  });

  it('a stale or forged page context: framed by the portal pinned for the member_id it names, if any', async () => {
    const installation = await app.installations.save({
      memberId: 'e0e0e0e0e0e0e0e0',
      domain: 'pinned.example.com',
      clientEndpoint: 'https://pinned.example.com/rest/',
      status: 'active',
    });
    const sealed = (memberId: string, userAuthExpiresAt: number) =>
      app.pageContext.sign({
        memberId,
        placement: 'LANDING_SETTINGS',
        options: {},
        lang: 'de',
        userAuth: 'user-token',
        userAuthExpiresAt,
        userId: 2,
      });
    const act = (ctx: string) =>
      app.inject({
        method: 'POST',
        url: '/placements/settings/action',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ctx, action: 'trash', DOMAIN: 'evil.example.com' }).toString(),
      });
    const pinned = /; frame-ancestors https:\/\/pinned\.example\.com$/;

    const expired = await act(sealed(installation.memberId, Date.now() - 1000));
    expect(expired.statusCode).toBe(403);
    expect(expired.body).toContain('data-state="expired_context"');
    expect(expired.headers['content-security-policy']).toMatch(pinned);

    const fresh = sealed(installation.memberId, Date.now() + 60_000);
    const forged = await act(`${fresh.slice(0, -4)}AAAA`);
    expect(forged.statusCode).toBe(403);
    expect(codeOf(forged.body)).toBe('invalid_context');
    expect(forged.headers['content-security-policy']).toMatch(pinned);

    // A member_id we never pinned (nor the DOMAIN beside it) lets nobody frame the page.
    const unknown = await act(`0badc0de${fresh.slice(fresh.indexOf('.'))}`);
    expect(codeOf(unknown.body)).toBe('invalid_context');
    expect(unknown.headers['content-security-policy']).toMatch(/; frame-ancestors 'none'$/);
  });

  it('429: when to retry, as Retry-After for every caller and on the page', async () => {
    const { app: limited } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '1' });
    try {
      const send = (url: string, memberId: string) =>
        limited.inject({
          method: 'POST',
          url: `${url}?DOMAIN=portal.example.com&PROTOCOL=1&LANG=ru`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `member_id=${memberId}`,
        });
      // JSON (events): the machine-readable code, and the per-portal limiter's wait as the header.
      await send('/events', 'c1c1c1c1');
      const json = await send('/events', 'c1c1c1c1');
      expect(json.statusCode).toBe(429);
      expect(json.json()).toMatchObject({ error: 'rate_limited' });
      const wait = Number(json.headers['retry-after']);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(60);

      await send('/placements/settings', 'd2d2d2d2');
      const page = await send('/placements/settings', 'd2d2d2d2');
      expect(page.statusCode).toBe(429);
      const seconds = Number(page.headers['retry-after']);
      expect(page.body).toContain('data-state="rate_limited"');
      expect(page.body).toContain(`data-retry-after="${seconds}"`);
      expect(page.body).toContain(translator('ru')('state.rate_limited.next', { seconds }));
    } finally {
      await limited.close();
    }
  });
});

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterSeconds('42')).toBe(42);
    expect(retryAfterSeconds(7)).toBe(7);
    expect(retryAfterSeconds(['5'])).toBe(5);
    expect(retryAfterSeconds(new Date(10_000).toUTCString(), 0)).toBe(10);
    expect(retryAfterSeconds('soon')).toBeNull();
    expect(retryAfterSeconds(undefined)).toBeNull();
    expect(retryAfterSeconds(-1)).toBeNull();
  });
});
