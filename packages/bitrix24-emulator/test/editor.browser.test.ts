import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { browserAvailable, launchChromium, rest } from '../src/testing.js';

const sdkRoot = dirname(createRequire(import.meta.url).resolve('@bitrix24/b24jssdk/package.json'));
const SDK = readFileSync(join(sdkRoot, 'dist', 'umd', 'index.min.js'), 'utf8');

/** The app page: the real b24jssdk talking to the editor page as its parent window. */
const APP_PAGE = `<!doctype html><html><head><meta charset="utf-8"><script src="/sdk.js"></script></head>
<body><h1>Test app</h1><pre id="out"></pre><div style="height:700px">tall content</div>
<script>
const out = (k, v) => { document.getElementById('out').textContent += k + '=' + JSON.stringify(v) + '\\n'; };
(async () => {
  try {
    const b24 = await B24Js.initializeB24Frame();
    out('placement', b24.placement.placement);
    out('options', b24.placement.options);
    if (b24.isInstallMode) { await b24.installFinish(); out('installFinish', true); }
    await b24.parent.resizeWindow(600, 321);
    await b24.parent.fitWindow();
    if (b24.placement.options && b24.placement.options.ID) {
      await b24.placement.call('refreshBlock', { id: Number(b24.placement.options.ID) });
    }
    const me = await b24.actions.v2.call.make({ method: 'user.current', params: {} });
    out('user', me.getData().result.ID);
    const auth = await b24.auth.refreshAuth();
    out('refreshed', !!auth.access_token);
    out('done', true);
  } catch (e) {
    out('error', String((e && (e.message || e.description)) || e));
  }
})();
</script></body></html>`;

interface Posted {
  path: string;
  query: Record<string, string>;
  body: Record<string, string>;
}

describe.runIf(browserAvailable)('Sites editor page in headless Chromium', () => {
  let app: FastifyInstance;
  let appUrl: string;
  const posted: Posted[] = [];
  let emulator: EmulatorHandle;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = Fastify();
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    app.get('/sdk.js', async (_req, reply) => reply.type('application/javascript').send(SDK));
    app.post('/*', async (req, reply) => {
      const url = new URL(req.url, 'http://x');
      posted.push({
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: req.body as Record<string, string>,
      });
      return reply.type('text/html; charset=utf-8').send(APP_PAGE);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    appUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    emulator = await startEmulator({ appUrl });
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    await app?.close();
  });

  const frameText = async () =>
    (await page
      .frameLocator('[data-testid="app-frame"]')
      .locator('#out')
      .textContent({ timeout: 2_000 })
      .catch(() => '')) ?? '';
  const commands = () => emulator.inspect().frameEvents.map((e) => e.command);

  it('hides widgets until install, then installs through the SDK (installFinish recorded)', async () => {
    const admin = emulator.issueTokens();
    const ep = emulator.portal().clientEndpoint;
    for (const PLACEMENT of ['LANDING_BLOCK_*', 'LANDING_SETTINGS']) {
      const r = await rest(ep, 'landing.repo.bind', {
        auth: admin.access_token,
        fields: { PLACEMENT, PLACEMENT_HANDLER: `${appUrl}/widget`, TITLE: `Test ${PLACEMENT}` },
      });
      expect(r.body.result).toBe(true);
    }
    await page.goto(emulator.portal().editorUrl);
    await page.click('[data-testid="block-more-996"]');
    await expect.poll(() => page.textContent('[data-testid="block-menu-996"]')).toContain('No applications');

    await page.click('[data-testid="install-app-local.emulator-app"]');
    await page.waitForSelector('[data-testid="install-status-local.emulator-app"][data-finished="Y"]', {
      timeout: 15_000,
    });
    expect(emulator.inspect().apps[0]?.installFinished).toBe(true);
    expect(commands()).toEqual(expect.arrayContaining(['getInitData', 'setInstall', 'setInstallFinish']));

    // The browser form-POSTed the install payload with the real query/body split.
    const install = posted.find((p) => p.path === '/install');
    expect(install?.query).toMatchObject({ DOMAIN: emulator.portal().domain, PROTOCOL: '0', LANG: 'en' });
    expect(install?.body).toMatchObject({ PLACEMENT: 'DEFAULT', member_id: emulator.portal().memberId });
    expect(install?.body.AUTH_ID).toBeTruthy();
    expect(install?.body).toMatchObject({
      APPLICATION_TOKEN: emulator.inspect().apps[0]?.applicationToken,
      SERVER_ENDPOINT: emulator.serverEndpoint,
      APPLICATION_SCOPE: 'landing,placement,user_brief',
    });
    // installFinish reloads the frame with the app's own page: a DEFAULT POST to the handler path.
    await expect.poll(() => posted.some((p) => p.path === '/')).toBe(true);
    const appPage = posted.find((p) => p.path === '/');
    expect(appPage?.body).toMatchObject({ PLACEMENT: 'DEFAULT', member_id: emulator.portal().memberId });
    await expect.poll(frameText, { timeout: 15_000 }).toContain('placement="DEFAULT"');
    const iframeName = await page.getAttribute('[data-testid="app-frame"]', 'name');
    expect(iframeName).toBe(`${emulator.portal().domain}|0|${appPage?.query.APP_SID}`);
  }, 60_000);

  it('opens a block widget: resize, refreshBlock, REST and refreshAuth all reach the emulator', async () => {
    await page.click('[data-testid="slider-close"]');
    await page.click('[data-testid="block-more-996"]');
    await page.click('[data-testid="block-menu-996"] [data-testid="widget-item"]');
    await expect.poll(frameText, { timeout: 15_000 }).toContain('done=true');
    const text = await frameText();
    expect(text).toContain('placement="LANDING_BLOCK_*"');
    expect(text).toContain('"ID":"996"');
    expect(text).toContain('user="1"');
    expect(text).not.toContain('error=');

    const snap = emulator.inspect();
    const frameId = await page.getAttribute('[data-testid="app-frame"]', 'data-frame-id');
    const resizes = snap.frameEvents.filter((e) => e.frameId === frameId && e.command === 'resizeWindow');
    expect(resizes[0]?.params).toEqual({ width: 600, height: 321 });
    expect(resizes[1]?.params).toMatchObject({ width: '100%' });
    expect(snap.refreshedBlocks).toContainEqual(expect.objectContaining({ blockId: 996, source: 'frame' }));
    expect(snap.blocks.find((b) => b.id === 996)?.refreshCount).toBe(1);
    expect(snap.frameEvents.filter((e) => e.frameId === frameId).map((e) => e.command)).toEqual([
      'getInitData',
      'resizeWindow',
      'resizeWindow',
      'refreshBlock',
      'refreshAuth',
    ]);

    // The page re-rendered the block and resized the iframe.
    expect(await page.textContent('[data-testid="refresh-count-996"]')).toContain('×1');
    const height = (resizes[1]?.params as { height?: number } | undefined)?.height;
    expect(await page.getAttribute('[data-testid="app-frame"]', 'style')).toContain(`height: ${height}px`);
    expect(await page.textContent('[data-testid="event-log"]')).toContain('refreshBlock');

    const widget = posted.at(-1);
    expect(widget?.path).toBe('/widget');
    expect(widget?.body).toMatchObject({
      PLACEMENT: 'LANDING_BLOCK_*',
      PLACEMENT_OPTIONS: '{"ID":"996","CODE":"43.4.cover_with_price_text_button_bgimg","LID":"30"}',
      APPLICATION_TOKEN: snap.apps[0]?.applicationToken,
    });
  }, 60_000);

  it('lists LANDING_SETTINGS widgets in the site settings menu', async () => {
    await page.click('[data-testid="slider-close"]');
    await page.click('[data-testid="settings-menu-button"]');
    await page.click('[data-testid="settings-menu"] [data-testid="widget-item"]');
    await expect.poll(frameText, { timeout: 15_000 }).toContain('done=true');
    expect(await frameText()).toContain('"SITE_ID":"30"');
    expect(posted.at(-1)?.body.PLACEMENT).toBe('LANDING_SETTINGS');
  }, 60_000);
});
