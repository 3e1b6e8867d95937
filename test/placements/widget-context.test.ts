// Opening and resuming a widget against the emulator over real HTTP (issue #18, mutation
// survivors of context.ts and user-verifier.ts): a form without a context, a context of another
// page, an installation the app may not act for, a page whose loader fails, and who the portal
// says a token belongs to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { InstallationStatus } from '../../src/installations/types.js';
import { openWidget, resumeWidget } from '../../src/placements/context.js';
import { identify } from '../../src/placements/user-verifier.js';
import { widgetDeps } from '../../src/routes/placements.js';
import { type Stack, startInstalledStack } from '../helpers/stack.js';

const MEMBER = 'c0ffee18';
let stack: Stack;
/** Genuine contexts of two pages, sealed for the portal's administrator. */
let settingsCtx: string;
let blockCtx: string;
/** Bitrix24's POST that opened the settings widget. */
let settingsOpen: { body: [string, string][]; query: Record<string, string> };

const ctxOf = (html: string) => /name="ctx" value="([^"]+)"/.exec(html)?.[1] ?? '';
/** The machine-readable code of an answer: JSON's `error`, or the error page's <code>. */
function codeOf(res: { headers: Record<string, unknown>; body: string }): string | undefined {
  if (String(res.headers['content-type']).startsWith('application/json')) return JSON.parse(res.body).error;
  return /<code>([^<]+)<\/code>/.exec(res.body)?.[1];
}
const module = (name: string) =>
  stack.app.placementModules.find((m) => m.handlerPath === `/placements/${name}`)!;

beforeAll(async () => {
  stack = await startInstalledStack(MEMBER);
  const settings = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
  const block = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_BLOCK_*', blockId: 999 });
  expect([settings.status, block.status]).toEqual([200, 200]);
  settingsCtx = ctxOf(settings.body);
  blockCtx = ctxOf(block.body);
  settingsOpen = {
    body: settings.payload.body,
    query: Object.fromEntries(new URL(settings.payload.action).searchParams),
  };
});
afterAll(async () => stack?.close());

async function post(url: string, payload: string, type = 'application/x-www-form-urlencoded') {
  const res = await stack.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
  return { status: res.statusCode, code: codeOf(res) };
}

describe('resuming a widget from its form', () => {
  it('a form without a context object is 403 invalid_context, whatever the body is', async () => {
    for (const [payload, type] of [
      ['null', 'application/json'],
      ['"ctx"', 'application/json'],
      ['7', 'application/json'],
      ['action=trash', 'application/x-www-form-urlencoded'],
    ]) {
      expect(await post('/placements/settings/action', payload!, type), payload).toEqual({
        status: 403,
        code: 'invalid_context',
      });
    }
    const deps = widgetDeps(stack.app);
    for (const body of [undefined, null, 'ctx', 42]) {
      await expect(resumeWidget(deps, module('settings'), body)).rejects.toMatchObject({
        statusCode: 403,
        code: 'invalid_context',
      });
    }
  });

  it('a genuine context of another page is 400 placement_mismatch', async () => {
    expect(
      await post('/placements/block/action', new URLSearchParams({ ctx: settingsCtx }).toString()),
    ).toEqual({
      status: 400,
      code: 'placement_mismatch',
    });
    expect(
      await post('/placements/settings/action', new URLSearchParams({ ctx: blockCtx }).toString()),
    ).toEqual({ status: 400, code: 'placement_mismatch' });
  });

  it('the administrator flag comes from the context alone: absent means not an administrator', async () => {
    const deps = widgetDeps(stack.app);
    const sealed = (admin: boolean | undefined) =>
      stack.app.pageContext.sign({
        memberId: MEMBER,
        placement: 'LANDING_SETTINGS',
        options: {},
        lang: 'en',
        userAuth: 'user-auth-0123456789',
        userAuthExpiresAt: stack.emulator.clock.now() + 3_600_000,
        userId: 2,
        ...(admin !== undefined && { admin }),
      });
    const resumed = async (admin: boolean | undefined) =>
      (await resumeWidget(deps, module('settings'), { ctx: sealed(admin) })).admin;
    expect([await resumed(undefined), await resumed(false), await resumed(true)]).toEqual([
      false,
      false,
      true,
    ]);
  });
});

describe('an installation the app may not act for', () => {
  it.each(['payment_required', 'uninstall_reported', 'needs_reinstall'] as const)(
    '%s: its action, and (but needs_reinstall, which heals) its open, get 403 with that code',
    async (status: InstallationStatus) => {
      const installation = (await stack.app.installations.find(MEMBER))!;
      await stack.app.installations.setStatus(installation.id, status, null);
      try {
        expect(
          await post('/placements/settings/action', new URLSearchParams({ ctx: settingsCtx }).toString()),
        ).toEqual({ status: 403, code: status });
        if (status !== 'needs_reinstall') {
          const deps = widgetDeps(stack.app);
          await expect(
            openWidget(deps, module('settings'), settingsOpen.query, Object.fromEntries(settingsOpen.body)),
          ).rejects.toMatchObject({ statusCode: 403, code: status });
        }
      } finally {
        await stack.app.installations.setStatus(installation.id, 'active', null);
      }
    },
  );
});

describe('opening a widget with a token not yet verified', () => {
  /** The settings open with a fresh AUTH_ID of `userId` (never seen by the app). */
  const freshOpen = (userId: number) => {
    const token = stack.emulator.issueTokens(MEMBER, userId).access_token;
    return { ...Object.fromEntries(settingsOpen.body), AUTH_ID: token };
  };

  it('a loader that fails is that page’s error, once the portal accepted the token', async () => {
    const failure = new AppError(502, 'view_failed', 'the view failed');
    const deps = widgetDeps(stack.app);
    await expect(
      openWidget(deps, module('settings'), settingsOpen.query, freshOpen(1), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('the portal names the token’s user and whether they administer it', async () => {
    const installation = (await stack.app.installations.find(MEMBER))!;
    const who = async (userId: number) =>
      identify(
        stack.app.clients.forUser(installation, stack.emulator.issueTokens(MEMBER, userId).access_token),
      );
    expect(await who(1)).toEqual({ userId: 1, admin: true });
    expect(await who(2)).toEqual({ userId: 2, admin: false });
  });
});
