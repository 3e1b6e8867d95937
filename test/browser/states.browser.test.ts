// Every state page a user can meet, in headless Chromium inside the emulator's Sites editor (the
// Bitrix24 parent window): each state is arranged for real (installation status, a non-admin's
// install, portal faults, a short deadline, an exhausted rate limit, a broken database, a closing
// app), then its page is checked for its heading, sentence, "what next" and language, framed by
// the portal and fitted to the iframe, and passed through axe-core. The widget, app and install
// pages met on the way pass axe too. Screenshots go to docs/screenshots/states (UPDATE_SCREENSHOTS=1).
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import AxeBuilder from '@axe-core/playwright';
import type { FramePayload } from 'bitrix24-emulator';
import { browserAvailable, launchChromium } from 'bitrix24-emulator/testing';
import type { FastifyInstance } from 'fastify';
import type { Browser, Frame, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { translator } from '../../src/i18n.js';
import { createLogger } from '../../src/logger.js';
import { buildTestApp, testConfig } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { type Stack, startStack } from '../helpers/stack.js';

const MAIN = 'a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5';
/** Its own portal, so that exhausting its rate limit leaves the other states alone. */
const BUSY = 'b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6';
// Above what the whole test posts for MAIN within a minute, so only BUSY is ever refused.
const PER_PORTAL = 100;
const DEADLINE_MS = 2500;

let stack: Stack;
let browser: Browser;
let page: Page;
/** Apps started by the test in place of (or beside) the stack's own. */
const extraApps: FastifyInstance[] = [];

const SHOTS = process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots/states' : 'test-results/screenshots/states';

beforeAll(async () => {
  stack = await startStack({
    emulator: {
      portals: [
        { memberId: MAIN, title: 'Demo portal' },
        { memberId: BUSY, title: 'Busy portal' },
      ],
    },
    env: {
      REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      RATE_LIMIT_PER_PORTAL: String(PER_PORTAL),
      RATE_LIMIT_PER_IP: '100000',
    },
  });
  for (const memberId of [MAIN, BUSY]) {
    expect((await stack.emulator.installApp(memberId)).status).toBe(200);
    stack.emulator.finishInstall(memberId);
  }
  if (!browserAvailable) return;
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  // axe-core/playwright needs pages of an explicit context.
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const app of extraApps) await app.close().catch(() => {});
  await stack?.close();
});

const portalOrigin = (memberId = MAIN) => new URL(stack.emulator.portal(memberId).editorUrl).origin;
const frameEvents = (memberId = MAIN) =>
  stack.emulator.inspect(memberId).frameEvents as { command: string }[];

async function openEditor(options: { memberId?: string; lang?: string; user?: number; hash?: string } = {}) {
  const query = new URLSearchParams();
  if (options.lang) query.set('lang', options.lang);
  if (options.user) query.set('user', String(options.user));
  await page.goto('about:blank');
  await page.goto(
    `${stack.emulator.portal(options.memberId ?? MAIN).editorUrl}?${query}${options.hash ?? ''}`,
  );
  await page.waitForSelector('[data-testid="settings-menu-button"]');
}

async function appFrame(): Promise<Frame> {
  const handle = await page.waitForSelector('[data-testid="app-frame"]');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('no frame');
  return frame;
}

/** The frame's document answered by our app (a POST to appUrl + path). */
const ourAnswer = (path: string) =>
  page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.url().startsWith(`${stack.appUrl}${path}`),
    { timeout: 20_000 },
  );

/** Opens the settings widget from the editor's menu; returns the frame and the POST the editor sent. */
async function openSettings(path = '/placements/settings'): Promise<{
  frame: Frame;
  payload: FramePayload;
  answer: Response;
}> {
  const opened = page.waitForResponse((r) => r.url().endsWith('/_emulator/api/open'));
  const answered = ourAnswer(path);
  await page.click('[data-testid="settings-menu-button"]');
  await page.click('[data-testid="widget-item"][data-placement="LANDING_SETTINGS"]');
  const payload = (await (await opened).json()) as FramePayload;
  return { frame: await appFrame(), payload, answer: await answered };
}

/** A form the test writes itself, posted into the editor's open app frame (as a forger would). */
async function submitIntoFrame(action: string, fields: [string, string][], iframeName: string) {
  await page.evaluate(
    ({ action, fields, iframeName }) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      form.target = iframeName;
      form.style.display = 'none';
      for (const [name, value] of fields) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
      form.remove();
    },
    { action, fields, iframeName },
  );
}

const withQuery = (payload: FramePayload, path: string, query: Record<string, string> = {}) => {
  const url = new URL(path, stack.appUrl);
  for (const [k, v] of Object.entries({ ...payload.query, ...query })) url.searchParams.set(k, v);
  return url.toString();
};

/** No serious or critical axe-core violation in the app frame's document (or the whole page). */
async function expectAccessible(what: string, scope: 'frame' | 'page' = 'frame', on: Page = page) {
  const builder = new AxeBuilder({ page: on });
  if (scope === 'frame') builder.include(['#app-frame', 'html']);
  const { violations } = await builder.analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `${what}: axe-core violations`).toEqual([]);
}

interface Expected {
  state: string;
  code: string;
  status: number;
  lang: string;
  /** The sentence's catalog key, when it is not errors.<code>. */
  sentence?: string;
}

/** The state page in the frame: status, framing, language, heading, sentence, what next, fitted. */
async function expectState(frame: Frame, answer: Response, e: Expected, memberId = MAIN) {
  await frame.waitForSelector(`[data-state="${e.state}"]`);
  await frame.waitForSelector('body[data-frame="ready"]');
  expect(answer.status()).toBe(e.status);
  // Framed by this portal, and by nobody else.
  const csp = (await answer.allHeaders())['content-security-policy'] ?? '';
  expect(csp).toMatch(new RegExp(`frame-ancestors ${portalOrigin(memberId).replace(/[.]/g, '\\.')}$`));
  const t = translator(e.lang);
  expect(await frame.getAttribute('html', 'lang')).toBe(e.lang);
  const text = async (selector: string) => ((await frame.textContent(selector)) ?? '').trim();
  expect(await text('[data-state-title]')).toBe(t(`state.${e.state}.title`));
  expect(await text('[data-state-message]')).toBe(t(e.sentence ?? `errors.${e.code}`));
  const next = await text('[data-state-next]');
  expect(next.length).toBeGreaterThan(20);
  expect(next).not.toContain('{');
  expect(await text('code')).toBe(e.code);
  // Not the English page under another language's tag.
  if (e.lang !== 'en')
    expect(t(`state.${e.state}.title`)).not.toBe(translator('en')(`state.${e.state}.title`));
  // Fitted through the SDK: the editor set the frame to the page's own height (resizeWindow).
  const fitted = async () => {
    const wanted = await frame.evaluate(
      () => Math.ceil(document.querySelector('main')!.getBoundingClientRect().height) + 32,
    );
    const height = await page.$eval('[data-testid="app-frame"]', (f) => (f as HTMLElement).style.height);
    return height === `${wanted}px`;
  };
  await expect.poll(fitted).toBe(true);
  expect(frameEvents(memberId).some((ev) => ev.command === 'resizeWindow')).toBe(true);
  expect(
    await frame.evaluate(() => document.documentElement.scrollHeight - window.innerHeight),
  ).toBeLessThanOrEqual(1);
}

const shot = (name: string) =>
  page.locator('[data-testid="slider"]').screenshot({ path: `${SHOTS}/${name}.png` });

/** A portal user who is not an administrator (the emulator's seed has one). */
function ordinaryUser(): number {
  const { adminUserId, userIds } = stack.emulator.portal(MAIN);
  return userIds.find((id) => id !== adminUserId)!;
}

async function installationId(memberId = MAIN): Promise<number> {
  return (await stack.app.installations.find(memberId))!.id;
}

describe.runIf(browserAvailable)('widget and app pages pass axe-core', () => {
  it('settings widget, block widget, app page', async () => {
    await openEditor();
    const { frame } = await openSettings();
    await frame.waitForSelector('[data-site-title]');
    await frame.waitForSelector('body[data-frame="ready"]');
    await expectAccessible('settings widget');

    await openEditor({ hash: '#/site/30/page/31' });
    const answered = ourAnswer('/placements/block');
    await page.click('[data-testid="block-more-999"]');
    await page.click('[data-testid="widget-item"][data-placement="LANDING_BLOCK_*"]');
    await answered;
    const block = await appFrame();
    await block.waitForSelector('[data-block-code]');
    await expectAccessible('block widget');

    // The app page (POST /) after a real install from the editor; then the install page itself,
    // posted outside any portal so that it stays (installFinish would replace it at once).
    await openEditor();
    const clientId = stack.emulator.apps[0]!.clientId;
    const installOpened = page.waitForResponse((r) => r.url().endsWith('/_emulator/api/open'));
    await page.click(`[data-testid="install-app-${clientId}"]`);
    const installPayload = (await (await installOpened).json()) as FramePayload;
    await page.waitForSelector(`[data-testid="install-status-${clientId}"][data-finished="Y"]`);
    // installFinish makes the editor replace the frame with the app page: a locator follows it.
    await page.frameLocator('[data-testid="app-frame"]').locator('[data-admin-state]').waitFor();
    await (await appFrame()).waitForSelector('body[data-frame="ready"]');
    await expectAccessible('app page');

    const replay = await page.context().newPage();
    try {
      await replay.setContent('<!doctype html><title>replay</title>');
      const done = replay.waitForResponse((r) => r.url().startsWith(`${stack.appUrl}/install`));
      await replay.evaluate(
        ({ action, fields }) => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = action;
          for (const [name, value] of fields) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.append(input);
          }
          document.body.append(form);
          form.submit();
        },
        { action: installPayload.action, fields: installPayload.body },
      );
      expect((await done).status()).toBe(200);
      await replay.waitForSelector('#install-status');
      await expectAccessible('install page', 'page', replay);
    } finally {
      await replay.close();
    }
  }, 120_000);
});

describe.runIf(browserAvailable)('state pages in the editor', () => {
  const statuses: [string, string][] = [
    ['needs_reinstall', 'ru'],
    ['payment_required', 'de'],
    ['uninstall_reported', 'ru'],
  ];
  it.each(statuses)(
    '%s (en and %s): the installation’s status in the database',
    async (status, other) => {
      const id = await installationId();
      await stack.app.installations.setStatus(id, status as 'needs_reinstall', 'set by the state test');
      try {
        // As an ordinary user: an administrator's own tokens would heal a needs_reinstall on opening.
        for (const lang of ['en', other]) {
          await openEditor({ lang, user: ordinaryUser() });
          const { frame, answer } = await openSettings();
          await expectState(frame, answer, { state: status, code: status, status: 403, lang });
          if (lang === 'en') await expectAccessible(status);
          await shot(`${status}.${lang}`);
        }
      } finally {
        await stack.app.installations.setStatus(id, 'active', null);
      }
    },
    60_000,
  );

  it('install_requires_admin (en and de): a non-admin’s own tokens posted to the install page', async () => {
    const user = ordinaryUser();
    const stored = async () => {
      const installation = (await stack.app.installations.find(MAIN))!;
      const tokens = await stack.app.installations.getTokens(installation.id);
      return JSON.stringify([installation.status, installation.installGrantHash, tokens]);
    };
    const before = await stored();
    for (const lang of ['en', 'de']) {
      // The editor offers installing to administrators only; a user can still post their own
      // (genuine) tokens to the install URL, here into the frame of a widget they opened.
      await openEditor({ lang, user });
      const { frame, payload } = await openSettings();
      await frame.waitForSelector('body[data-frame="ready"]');
      const body = payload.body.map(([k, v]): [string, string] => [k, k === 'PLACEMENT' ? 'DEFAULT' : v]);
      const answered = ourAnswer('/install');
      await submitIntoFrame(withQuery(payload, '/install'), body, payload.iframeName);
      await expectState(frame, await answered, {
        state: 'install_requires_admin',
        code: 'install_requires_admin',
        status: 403,
        lang,
      });
      if (lang === 'en') await expectAccessible('install_requires_admin');
      await shot(`install_requires_admin.${lang}`);
    }
    // Nothing stored: same status, same install grant, same tokens.
    expect(await stored()).toBe(before);
  });

  it('portal_unavailable (en and ru), then "Try again" re-posts the same request', async () => {
    for (const lang of ['ru', 'en']) {
      stack.emulator.faults.update({ errorRate: 1, errorStatus: 500 });
      await openEditor({ lang });
      const { frame, answer } = await openSettings();
      await expectState(frame, answer, {
        state: 'portal_unavailable',
        code: 'portal_unavailable',
        status: 503,
        lang,
      });
      await shot(`portal_unavailable.${lang}`);
      if (lang === 'ru') continue;
      await expectAccessible('portal_unavailable');
      stack.emulator.faults.reset();
      const again = ourAnswer('/placements/settings');
      await frame.click('[data-retry]');
      const retried = await again;
      expect(retried.status()).toBe(200);
      // The very same form was posted again (the frame's POST body, not a new one).
      expect(retried.request().postData()).toBe(answer.request().postData());
      await frame.waitForSelector('[data-site-title]');
    }
  }, 60_000);

  it('deadline_exceeded (en and de): the portal slower than REQUEST_DEADLINE_MS', async () => {
    try {
      for (const lang of ['en', 'de']) {
        stack.emulator.faults.update({ latencyMs: DEADLINE_MS + 1500 });
        await openEditor({ lang });
        const { frame, answer } = await openSettings();
        await expectState(frame, answer, {
          state: 'deadline_exceeded',
          code: 'deadline_exceeded',
          status: 503,
          lang,
        });
        expect(await frame.isVisible('[data-retry]')).toBe(true);
        if (lang === 'en') await expectAccessible('deadline_exceeded');
        await shot(`deadline_exceeded.${lang}`);
      }
    } finally {
      stack.emulator.faults.reset();
    }
  }, 60_000);

  it('refused (en and ru): a form naming another portal address; a forged page context', async () => {
    for (const lang of ['en', 'ru']) {
      await openEditor({ lang });
      const { frame, payload } = await openSettings();
      await frame.waitForSelector('body[data-frame="ready"]');
      const answered = ourAnswer('/placements/settings');
      await submitIntoFrame(
        withQuery(payload, '/placements/settings', { DOMAIN: 'other.example.com' }),
        payload.body,
        payload.iframeName,
      );
      // Framed by the portal the installation pinned, not by the address the form names.
      await expectState(frame, await answered, {
        state: 'refused',
        code: 'domain_mismatch',
        status: 403,
        lang,
      });
      if (lang === 'en') await expectAccessible('refused');
      await shot(`refused.${lang}`);
    }

    await openEditor({ lang: 'de' });
    const { frame, payload } = await openSettings();
    await frame.waitForSelector('[data-site-title]');
    const ctx = await frame.getAttribute('input[name="ctx"]', 'value');
    const answered = ourAnswer('/placements/settings/action');
    await submitIntoFrame(
      `${stack.appUrl}/placements/settings/action`,
      [
        ['ctx', `${ctx!.slice(0, -4)}AAAA`],
        ['action', 'trash'],
      ],
      payload.iframeName,
    );
    // A context that does not verify is framed only by the portal pinned for the member_id it
    // names (here the real one); its language is sealed inside it, so the page is in English.
    await expectState(frame, await answered, {
      state: 'refused',
      code: 'invalid_context',
      status: 403,
      lang: 'en',
    });
  });

  it('admin_only (de): a non-admin’s forged admin action is refused inside the widget, with a sentence', async () => {
    await openEditor({ lang: 'de', user: ordinaryUser() });
    const { frame, payload } = await openSettings();
    await frame.waitForSelector('[data-site-title]');
    await expectAccessible('settings widget (non-admin)');
    const ctx = await frame.getAttribute('input[name="ctx"]', 'value');
    const answered = ourAnswer('/placements/settings/action');
    await submitIntoFrame(
      `${stack.appUrl}/placements/settings/action`,
      [
        ['ctx', ctx!],
        ['action', 'trash'],
      ],
      payload.iframeName,
    );
    expect((await answered).status()).toBe(403);
    // Not a state page: the widget stays, with the refusal on top of it.
    await frame.waitForSelector('[data-flash="error"][data-code="admin_only"]');
    expect((await frame.textContent('[data-flash]'))?.trim()).toBe(translator('de')('errors.admin_only'));
    expect(stack.emulator.inspect(MAIN).sites.every((site) => !site.deleted)).toBe(true);
    await expectAccessible('admin_only');
  });

  it('bad_request (en and de): a malformed widget POST', async () => {
    for (const lang of ['en', 'de']) {
      await openEditor({ lang });
      const { frame, payload } = await openSettings();
      await frame.waitForSelector('body[data-frame="ready"]');
      const body = payload.body.map(([k, v]): [string, string] => [
        k,
        k === 'PLACEMENT_OPTIONS' ? '{not json' : v,
      ]);
      const answered = ourAnswer('/placements/settings');
      await submitIntoFrame(withQuery(payload, '/placements/settings'), body, payload.iframeName);
      await expectState(frame, await answered, {
        state: 'bad_request',
        code: 'invalid_payload',
        status: 400,
        lang,
      });
      if (lang === 'en') await expectAccessible('bad_request');
      await shot(`bad_request.${lang}`);
    }
  });

  it('rate_limited (en and ru): the portal’s requests per minute exhausted; says when to retry', async () => {
    // Spend the portal's allowance the way a flood would (the limiter counts by member_id).
    for (let i = 0; i < PER_PORTAL; i++) {
      await stack.app.inject({
        method: 'POST',
        url: '/placements/settings',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `member_id=${BUSY}`,
      });
    }
    for (const lang of ['en', 'ru']) {
      await openEditor({ memberId: BUSY, lang });
      const { frame, answer } = await openSettings();
      await expectState(
        frame,
        answer,
        { state: 'rate_limited', code: 'rate_limited', status: 429, lang },
        BUSY,
      );
      const retryAfter = Number((await answer.allHeaders())['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // When: the limiter's Retry-After, in the sentence (counting down) and on the disabled button.
      const sentence = translator(lang)('state.rate_limited.next', { seconds: '(\\d+)' });
      const secondsShown = async () =>
        Number(new RegExp(`^${sentence}$`).exec((await frame.textContent('[data-state-next]'))!.trim())?.[1]);
      const shown = await secondsShown();
      expect(shown).toBeGreaterThan(retryAfter - 3);
      expect(shown).toBeLessThanOrEqual(retryAfter);
      await expect.poll(secondsShown).toBeLessThan(shown);
      expect(await frame.getAttribute('[data-retry]', 'data-retry-after')).toBe(String(retryAfter));
      expect(await frame.isDisabled('[data-retry]')).toBe(true);
      if (lang === 'en') await expectAccessible('rate_limited');
      await shot(`rate_limited.${lang}`);
    }
  });

  // Last: these replace the stack's app.
  it('database_unavailable (en and de): the app restarted with a database it cannot reach', async () => {
    await stack.app.close();
    // Its own client (not the suite's), on an address where no database listens.
    const broken = await buildApp(
      testConfig({ ...appEnv(), DATABASE_URL: 'postgresql://app:pw@127.0.0.1:1/none', LOG_LEVEL: 'silent' }),
      { logger: createLogger('silent') },
    );
    extraApps.push(broken);
    await broken.listen({ host: '127.0.0.1', port: Number(new URL(stack.appUrl).port) });
    for (const lang of ['en', 'de']) {
      await openEditor({ lang });
      const { frame, answer } = await openSettings();
      await expectState(frame, answer, {
        state: 'database_unavailable',
        code: 'database_unavailable',
        status: 503,
        lang,
      });
      if (lang === 'en') await expectAccessible('database_unavailable');
      await shot(`database_unavailable.${lang}`);
    }
  }, 60_000);

  it('shutting_down (en and ru): the answer of an app that is closing, shown in the frame', async () => {
    // A browser opens a new connection for the frame, which a closing server no longer accepts;
    // the page reaches users on connections already open. So the test holds one open to a
    // second app, starts closing that app, and hands its answer to the frame.
    for (const lang of ['en', 'ru']) {
      const closing = await buildTestApp(stack.testDb, appEnv());
      extraApps.push(closing.app);
      const port = await freePort();
      await closing.app.listen({ host: '127.0.0.1', port });
      const ours = (url: URL) => url.origin === stack.appUrl && url.pathname === '/placements/settings';
      await page.route(ours, async (route) => {
        const request = route.request();
        const answer = await answerWhileClosing(closing.app, port, request.url(), request.postData() ?? '');
        await route.fulfill(answer);
      });
      try {
        await openEditor({ lang });
        const { frame, answer } = await openSettings();
        await expectState(frame, answer, {
          state: 'shutting_down',
          code: 'shutting_down',
          status: 503,
          lang,
        });
        if (lang === 'en') await expectAccessible('shutting_down');
        await shot(`shutting_down.${lang}`);
      } finally {
        await page.unrouteAll({ behavior: 'wait' });
      }
    }
  }, 60_000);
});

/** The environment the stack's app runs with (its database and encryption key included). */
function appEnv(): Record<string, string> {
  const c = stack.config;
  return {
    PUBLIC_URL: stack.appUrl,
    B24_OAUTH_URL: c.bitrix24.oauthUrl,
    B24_CLIENT_ID: stack.emulator.apps[0]!.clientId,
    B24_CLIENT_SECRET: stack.emulator.apps[0]!.clientSecret,
    B24_ALLOW_HTTP: 'true',
    TOKEN_ENCRYPTION_KEY: c.tokenEncryptionKey!.toString('hex'),
    REQUEST_DEADLINE_MS: String(DEADLINE_MS),
  };
}

/**
 * Sends most of the request's head on a fresh connection, starts app.close() while the rest is
 * still owed (Node drops only idle connections), then sends it: the app answers as it closes.
 */
async function answerWhileClosing(app: FastifyInstance, port: number, url: string, body: string) {
  const { pathname, search } = new URL(url);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `POST ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
  );
  await new Promise((r) => setTimeout(r, 100));
  const closed = app.close();
  await new Promise((r) => setTimeout(r, 100));
  // The head ends only now: the request is complete once the app is closing.
  socket.write(`\r\n${body}`);
  await ended;
  await closed;
  const raw = Buffer.concat(chunks);
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  // Fastify sends a rendered page whole, with its length (no chunked encoding to undo).
  expect(headers['transfer-encoding']).toBeUndefined();
  delete headers['content-length'];
  delete headers.connection;
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(split + 4) };
}
