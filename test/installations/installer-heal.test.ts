// Self-healing, re-pinning and address confirmation, path by path (issue #18, mutation testing
// of installer.ts): who may heal a lost installation and with which pair, what a refresh that
// names another portal or address does, what each administrator-check answer means, and what a
// re-pin logs once its background re-sync ends.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HealRequest } from '../../src/installations/installer.js';
import type { Installation } from '../../src/installations/types.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { answering, installerOf, logged } from './installer-harness.js';

const H = 'feed0001';
const R = 'feed0002';
const OTHER_APP = 'local.other-app';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: {
      portals: [{ memberId: H }, { memberId: R }],
      apps: [
        { clientId: 'local.emulator-app', clientSecret: 'emulator-secret' },
        { clientId: OTHER_APP, clientSecret: 'other-secret' },
      ],
    },
  });
  for (const member of [H, R]) {
    const tokens = adminTokens(member);
    await stack.app.installer.install({
      memberId: member,
      domain: portal(member).domain,
      protocol: 'http',
      lang: 'en',
      refreshToken: tokens.refresh_token,
      accessToken: tokens.access_token,
      scope: 'landing,placement',
      applicationToken: 'app0token',
    });
  }
});
afterAll(async () => stack?.close());

const portal = (member: string) => stack.emulator.portal(member);
const adminTokens = (member: string) => stack.emulator.issueTokens(member, portal(member).adminUserId);
const refreshes = () => stack.emulator.stats.snapshot().oauth.refreshRequests;
const logs = (lines: readonly string[], msg: string, keys: string[]) => logged(lines, msg, keys);

/** The installation as the token manager leaves it once its refresh token is gone. */
async function lost(member: string): Promise<Installation> {
  const installation = (await stack.app.installations.find(member))!;
  await stack.app.installations.setStatus(installation.id, 'needs_reinstall', 'refresh: invalid_grant');
  return (await stack.app.installations.find(member))!;
}

const visit = (tokens: { access_token: string; refresh_token: string }): HealRequest => ({
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  expiresInSeconds: 3600,
});

/** An OAuth server whose app.info does not name the token's owner: healing falls back to a refresh. */
const silentAppInfo = (next: typeof fetch = fetch) =>
  answering('/rest/app.info', 200, { result: { ID: 1 } }, next);

describe("healing confirmed by the OAuth server's word on the token", () => {
  it("refuses an administrator's token of another app: null, warned, nothing changed", async () => {
    const installation = await lost(H);
    const other = stack.emulator.issueTokens(H, portal(H).adminUserId, OTHER_APP);
    expect(await stack.app.installer.heal(installation, visit(other))).toBeNull();
    expect((await stack.app.installations.find(H))?.status).toBe('needs_reinstall');
    expect(
      logs(stack.logs.lines, 'heal refused: tokens belong to another portal or app', ['memberId']).at(-1),
    ).toEqual({ memberId: H });
  });
});

describe('healing confirmed by a refresh (the OAuth server does not name the owner)', () => {
  it("heals with the administrator's refreshed pair", async () => {
    const installation = await lost(H);
    const { installer } = installerOf(stack, { oauthFetch: silentAppInfo().fetch });
    const tokens = adminTokens(H);
    const before = refreshes();
    const healed = await installer.heal(installation, visit(tokens));
    expect(healed?.installation).toMatchObject({ memberId: H, status: 'active', lastError: null });
    expect(refreshes()).toBe(before + 1);
    const stored = (await stack.app.installations.getTokens(installation.id))!;
    expect(stored.accessToken).toBe(healed?.accessToken);
    expect(stored.accessToken).not.toBe(tokens.access_token);
    // The scope the install recorded stays: a heal's grant names none.
    expect(await stack.app.installations.find(H)).toMatchObject({
      status: 'active',
      healCount: installation.healCount + 1,
      scope: 'landing,placement',
    });
  });

  it('a refresh token the OAuth server refuses (invalid_grant, or 401 invalid_token): null', async () => {
    const installation = await lost(H);
    const { installer } = installerOf(stack, { oauthFetch: silentAppInfo().fetch });
    const tokens = adminTokens(H);
    expect(
      await installer.heal(installation, visit({ ...tokens, refresh_token: 'f'.repeat(40) })),
    ).toBeNull();
    const unauthorized = installerOf(stack, {
      oauthFetch: silentAppInfo(
        answering('/oauth/token/', 401, { error: 'invalid_token', error_description: 'test' }).fetch,
      ).fetch,
    });
    expect(await unauthorized.installer.heal(installation, visit(tokens))).toBeNull();
    expect((await stack.app.installations.find(H))?.status).toBe('needs_reinstall');
  });

  it('an OAuth server failing (500) on the refresh: the failure', async () => {
    const installation = await lost(H);
    const { installer } = installerOf(stack, { oauthFetch: silentAppInfo().fetch });
    stack.emulator.faults.failNext(1, { target: 'oauth', status: 500 });
    try {
      await expect(installer.heal(installation, visit(adminTokens(H)))).rejects.toMatchObject({
        kind: 'transient',
        code: 'INTERNAL_SERVER_ERROR',
      });
    } finally {
      stack.emulator.faults.reset();
    }
    expect((await stack.app.installations.find(H))?.status).toBe('needs_reinstall');
  });

  it('a refresh naming another member_id (same address), or another address: null, warned', async () => {
    const installation = await lost(H);
    const { installer, logs: lines } = installerOf(stack, { oauthFetch: silentAppInfo().fetch });
    const elsewhere = { ...installation, memberId: 'feed0099' };
    expect(await installer.heal(elsewhere, visit(adminTokens(H)))).toBeNull();
    const renamed = { ...installation, domain: 'renamed.example.com' };
    expect(await installer.heal(renamed, visit(adminTokens(H)))).toBeNull();
    expect(logs(lines.lines, 'heal refused: tokens belong to another portal', ['memberId'])).toEqual([
      { memberId: 'feed0099' },
      { memberId: H },
    ]);
    expect(await stack.app.installations.find('feed0099')).toBeNull();
    expect((await stack.app.installations.find(H))?.status).toBe('needs_reinstall');
  });
});

describe('the administrator check before healing', () => {
  it('a token the portal refuses: null, and the posted refresh token is not spent', async () => {
    const installation = await lost(H);
    const before = refreshes();
    const tokens = adminTokens(H);
    expect(
      await stack.app.installer.heal(installation, visit({ ...tokens, access_token: 'bogus0token' })),
    ).toBeNull();
    expect(refreshes()).toBe(before);
  });

  it('the portal answering ACCESS_DENIED: null; failing (500): the failure', async () => {
    const installation = await lost(H);
    const denied = installerOf(stack, {
      restFetch: answering('/user.admin.json', 403, { error: 'ACCESS_DENIED', error_description: 'x' }).fetch,
    });
    expect(await denied.installer.heal(installation, visit(adminTokens(H)))).toBeNull();
    stack.emulator.faults.update({ methods: { 'user.admin': { errorRate: 1, errorStatus: 500 } } });
    try {
      const { installer } = installerOf(stack);
      await expect(installer.heal(installation, visit(adminTokens(H)))).rejects.toMatchObject({
        kind: 'transient',
      });
    } finally {
      stack.emulator.faults.reset();
    }
    expect((await stack.app.installations.find(H))?.status).toBe('needs_reinstall');
  });
});

describe('a page naming another address', () => {
  it('not confirmed by the OAuth server: null, warned', async () => {
    const installation = (await stack.app.installations.find(R))!;
    expect(await stack.app.installer.confirmAddress(installation, 'evil.example.com')).toBeNull();
    expect(
      logs(stack.logs.lines, 'page refused: the OAuth server does not confirm its address', ['memberId']).at(
        -1,
      ),
    ).toEqual({ memberId: R });
  });
});

describe('re-pinning a renamed portal', () => {
  it('logs the move; a re-sync that binds everything logs nothing more', async () => {
    const installation = (await stack.app.installations.find(R))!;
    let resynced!: () => void;
    const bindingsSet = new Promise<void>((resolve) => {
      resynced = resolve;
    });
    const { installer, logs: lines } = installerOf(stack, { onBindingsSet: () => resynced() });
    const renamed = await stack.emulator.renamePortal(R);
    const moved = await installer.repin(installation, renamed.clientEndpoint);
    expect(moved).toMatchObject({ domain: renamed.domain, clientEndpoint: renamed.clientEndpoint });
    expect(
      logs(lines.lines, 'portal address changed: installation re-pinned', ['memberId', 'from', 'to']),
    ).toEqual([{ memberId: R, from: installation.domain, to: renamed.domain }]);
    // The re-sync runs in the background; its outcome is logged right after the bindings are recorded.
    await bindingsSet;
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.lines.map((line) => JSON.parse(line).msg)).toEqual([
      'portal address changed: installation re-pinned',
    ]);
  });

  it('a re-sync the portal refuses in part, or that fails: warned with the member_id', async () => {
    const installation = (await stack.app.installations.find(R))!;
    const refused = installerOf(stack, { publicUrl: 'http://127.0.0.9:1' });
    await refused.installer.repin(installation, installation.clientEndpoint);
    await vi.waitFor(() =>
      expect(
        logs(refused.logs.lines, 're-sync after an address change failed in part', ['memberId']),
      ).toEqual([{ memberId: R }]),
    );
    const failing = installerOf(stack);
    await failing.installer.repin(installation, 'http://127.0.0.1:9/rest/');
    await vi.waitFor(() =>
      expect(
        logged(failing.logs.lines, 're-sync after an address change failed', ['memberId', 'err']).map(
          ({ memberId, err }) => ({ memberId, code: (err as { code?: string } | undefined)?.code }),
        ),
      ).toEqual([{ memberId: R, code: 'NETWORK_ERROR' }]),
    );
  });
});
