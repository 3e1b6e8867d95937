// Our pages in headless Chromium, inside the emulator's Sites editor playing the Bitrix24
// parent window: install finishes through the JS SDK, widgets open, act, fit the frame, and
// refreshBlock reaches the editor. Screenshots go to docs/screenshots for the README.
import { browserAvailable, launchChromium } from 'bitrix24-emulator/testing';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;
let memberId: string;

beforeAll(async () => {
  stack = await startStack();
  memberId = stack.emulator.portal().memberId;
  if (!browserAvailable) return;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A fresh editor page (a hash-only change would keep the previous slider open). */
async function openEditor(hash = '') {
  await page.goto('about:blank');
  await page.goto(`${stack.emulator.portal().editorUrl}${hash}`);
}

// The README's screenshots are refreshed on demand (UPDATE_SCREENSHOTS=1), not by every run.
const SHOTS = process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots';
const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

async function appFrame(pathPrefix: string): Promise<Frame> {
  const handle = await page.waitForSelector('[data-testid="app-frame"]');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('no frame');
  await frame.waitForURL((url) => url.pathname.startsWith(pathPrefix));
  await frame.waitForSelector('body[data-frame="ready"], body[data-install-finished]');
  return frame;
}

const frameEvents = () => stack.emulator.inspect(memberId).frameEvents as { command: string }[];

describe.runIf(browserAvailable)('install page', () => {
  it('calls installFinish() through the Bitrix24 JS SDK, then the portal opens the app page', async () => {
    await openEditor();
    const clientId = stack.emulator.apps[0]!.clientId;
    expect(stack.emulator.inspect(memberId).apps[0]?.installFinished).toBe(false);
    await page.click(`[data-testid="install-app-${clientId}"]`);
    // Like Bitrix24, the editor reloads once the app reports installFinish, closing the frame.
    await page.waitForSelector(`[data-testid="install-status-${clientId}"][data-finished="Y"]`);
    expect(stack.emulator.inspect(memberId).apps[0]?.installFinished).toBe(true);
    const installed = await stack.app.installations.find(memberId);
    expect(installed?.status).toBe('active');
    expect(frameEvents().map((e) => e.command)).toContain('setInstallFinish');
    // As on a real portal, installFinish reloads the frame with the app's own page (POST /):
    // the administrator sees the installation's state, every binding present.
    const app = await appFrame('/');
    await app.waitForSelector('[data-admin-state]');
    expect(await app.textContent('[data-status]')).toBe('active');
    const present = await app.$$eval('[data-binding]', (rows) =>
      rows.map((r) => r.getAttribute('data-present')),
    );
    expect(present.length).toBeGreaterThan(0);
    expect(present.every((p) => p === 'true')).toBe(true);
    await shot('editor-after-install');
  });
});

describe.runIf(browserAvailable)('site settings widget', () => {
  it('opens from the settings menu, fits the frame, and assigns a special page', async () => {
    await openEditor();
    await page.click('[data-testid="settings-menu-button"]');
    await page.click('[data-testid="widget-item"][data-placement="LANDING_SETTINGS"]');
    const frame = await appFrame('/placements/settings');
    expect(await frame.textContent('[data-site-title]')).toContain('Demo Store');
    expect(frameEvents().some((e) => e.command === 'resizeWindow')).toBe(true);
    // The frame is as tall as its content: no inner scrollbar.
    const scroll = await frame.evaluate(() => document.documentElement.scrollHeight - window.innerHeight);
    expect(scroll).toBeLessThanOrEqual(1);
    await shot('settings-widget');

    await frame.selectOption('#type_personal', '32');
    await frame.click('form:has(input[value="syspages"]) button[type="submit"]');
    await frame.waitForSelector('[data-flash="ok"]');
    expect(await frame.textContent('[data-flash]')).toContain('Personal account');
    expect(JSON.stringify(stack.emulator.inspect(memberId).syspages)).toContain('personal');
  });
});

describe.runIf(browserAvailable)('block tools widget', () => {
  it("opens from a block's More menu, acts, and asks the editor to refresh the block", async () => {
    await openEditor('#/site/30/page/31');
    await page.click('[data-testid="block-more-999"]');
    await page.click('[data-testid="widget-item"][data-placement="LANDING_BLOCK_*"]');
    const frame = await appFrame('/placements/block');
    expect(await frame.textContent('[data-block-code]')).toBe('repo_1132');
    await frame.selectOption('#type', 'catalog');
    await frame.click('form.inline button[type="submit"]');
    await frame.waitForSelector('body[data-block-refreshed="999"]');
    const state = stack.emulator.inspect(memberId);
    expect(state.refreshedBlocks.map((r) => r.blockId)).toContain(999);
    expect(frameEvents().some((e) => e.command === 'refreshBlock')).toBe(true);
    await shot('block-widget');
  });
});
