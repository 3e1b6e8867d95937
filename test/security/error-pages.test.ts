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
import { statePage } from '../../src/plugins/error-states.js';
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
      text(/<p class="card__text card__hint"[^>]*>([^<]*)<\/p>/),
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
