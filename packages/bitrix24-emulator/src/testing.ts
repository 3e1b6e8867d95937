// Test aids over the public API: an emulator on a frozen clock with an admin token, a raw REST
// call, and the headless Chromium the browser tests open the emulator's pages in.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { EmulatorClock, type EmulatorHandle, type EmulatorOptions, startEmulator } from './index.js';

export interface RestAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

/** POSTs a REST call over real HTTP, as JSON (default) or as a PHP-style form body. */
export async function rest(
  baseUrl: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { form?: string; query?: string } = {},
): Promise<RestAnswer> {
  const url = `${baseUrl}${method}${opts.query ? `?${opts.query}` : ''}`;
  const init: RequestInit =
    opts.form !== undefined
      ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: opts.form }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) };
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Spends `refreshToken` at the emulator's OAuth server as an app does (GET /oauth/token/ with the
 * app's credentials; the first registered app unless `clientId` names another).
 */
export function refreshAt(
  emulator: EmulatorHandle,
  refreshToken: string,
  clientId?: string,
): Promise<Response> {
  const app = emulator.apps.find((a) => clientId === undefined || a.clientId === clientId)!;
  const query = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: app.clientId,
    client_secret: app.clientSecret,
    refresh_token: refreshToken,
  });
  return fetch(`${emulator.oauthTokenUrl}?${query}`);
}

/**
 * An emulator on a frozen clock with an admin token ready. The bucket is made roomy because a
 * frozen clock never drains it; the bucket tests set their own limits.
 */
export async function frozenEmulator(options: EmulatorOptions = {}) {
  const clock = new EmulatorClock({ frozen: true });
  const emulator = await startEmulator({ clock, limits: { bucketSize: 100_000 }, ...options });
  const portal = emulator.portal();
  const admin = emulator.issueTokens(portal.memberId, portal.adminUserId);
  const call = (method: string, params: Record<string, unknown> = {}, token: string = admin.access_token) =>
    rest(portal.clientEndpoint, method, { ...params, auth: token });
  return { emulator, clock, portal, admin, call };
}

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Browser tests run wherever Debian's Chromium is installed, and always in CI (which installs
 * it, and where a missing browser must fail rather than skip).
 */
export const browserAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!browserAvailable) {
  console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

/**
 * Debian's Chromium, headless; never a downloaded browser. playwright-core is loaded here, so
 * the suites that use no browser do not load it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium (CI does)`);
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export type { EmulatorHandle };
