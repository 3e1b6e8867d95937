// Install verification, path by path (issue #18, mutation testing of installer.ts): the reload
// check, the refresh fallback, the pending grant of an interrupted install, the OAuth server's
// word on the access token, the administrator check, refused bindings. Each refusal is asserted
// by its exact status and code, what is stored or pending afterwards, and the warning's fields.
import { EmulatorClock } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallRequest } from '../../src/installations/installer.js';
import { type Stack, startStack } from '../helpers/stack.js';
import {
  answering,
  type InstallTokens,
  installerOf,
  installRequest,
  logged,
  sha256,
} from './installer-harness.js';

const A = 'a1a1a1a1';
const B = 'b2b2b2b2';
const OTHER_APP = 'local.other-app';

/** The emulator's clock, which the app reads too: frozen where a test needs an exact remaining lifetime. */
const clock = new EmulatorClock();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: {
      clock,
      portals: [{ memberId: A }, { memberId: B }],
      apps: [
        { clientId: 'local.emulator-app', clientSecret: 'emulator-secret' },
        { clientId: OTHER_APP, clientSecret: 'other-secret' },
      ],
    },
  });
});
afterAll(async () => stack?.close());

const portal = (member: string) => stack.emulator.portal(member);
const adminTokens = (member: string) => stack.emulator.issueTokens(member, portal(member).adminUserId);
const refreshes = () => stack.emulator.stats.snapshot().oauth.refreshRequests;
const pending = () => stack.testDb.db.pendingInstall.findMany({ orderBy: { grantHash: 'asc' } });
const logs = (msg: string, keys: string[]) => logged(stack.logs.lines, msg, keys);

const request = (member: string, tokens: InstallTokens, over: Partial<InstallRequest> = {}) =>
  installRequest(stack, member, tokens, over);

/** A pending grant as an install interrupted after the refresh check leaves it. */
async function savePending(
  refreshId: string,
  member: string,
  grant: { accessToken: string; refreshToken: string; expiresAt: Date },
) {
  await stack.app.installations.savePendingInstall({
    grantHash: sha256(refreshId),
    memberId: member,
    clientEndpoint: portal(member).clientEndpoint,
    serverEndpoint: null,
    scope: null,
    userId: portal(member).adminUserId,
    ...grant,
  });
}

describe('a reload of the verified install page', () => {
  it('writes nothing when the installation is active and clean; naming another address is refused', async () => {
    const tokens = adminTokens(A);
    const first = await stack.app.installer.install(request(A, tokens));
    expect(first.installation).toMatchObject({ memberId: A, status: 'active', lastError: null });
    expect(logs('installation saved', ['memberId', 'domain', 'status']).at(-1)).toEqual({
      memberId: A,
      domain: portal(A).domain,
      status: 'active',
    });
    const installedAt = new Date('2026-01-02T03:04:05.000Z');
    await stack.testDb.db.installation.update({ where: { memberId: A }, data: { installedAt } });

    const reload = await stack.app.installer.install(request(A, tokens));
    expect(reload.installation.status).toBe('active');
    expect((await stack.app.installations.find(A))?.installedAt).toEqual(installedAt);
    const desired = stack.app.installer.desired('en').length;
    expect(logs('installation saved', ['memberId', 'domain', 'status']).at(-1)).toEqual({
      memberId: A,
      domain: portal(A).domain,
      status: 'active',
    });
    expect(logs('app installed', ['memberId', 'status', 'bound']).at(-1)).toEqual({
      memberId: A,
      status: 'active',
      bound: desired,
    });

    await expect(
      stack.app.installer.install(request(A, tokens, { domain: 'evil.example.com' })),
    ).rejects.toMatchObject({ statusCode: 403, code: 'domain_mismatch' });
  });
});

describe('an install verified by a refresh (no access token posted)', () => {
  it("another member_id on the tokens' address: 403 portal_mismatch, nothing pending, warned", async () => {
    const { refresh_token } = adminTokens(A);
    await expect(
      stack.app.installer.install(request(A, { refresh_token }, { memberId: 'c3c3c3c3' })),
    ).rejects.toMatchObject({ statusCode: 403, code: 'portal_mismatch' });
    expect(await pending()).toEqual([]);
    expect(await stack.app.installations.find('c3c3c3c3')).toBeNull();
    expect(logs('install refused: tokens belong to another portal', ['memberId', 'domain']).at(-1)).toEqual({
      memberId: 'c3c3c3c3',
      domain: portal(A).domain,
    });
  });

  it("the tokens' member_id on another address: 403 portal_mismatch, nothing pending", async () => {
    const { refresh_token } = adminTokens(A);
    await expect(
      stack.app.installer.install(request(A, { refresh_token }, { domain: 'a-elsewhere.example.com' })),
    ).rejects.toMatchObject({ statusCode: 403, code: 'portal_mismatch' });
    expect(await pending()).toEqual([]);
    expect((await stack.app.installations.find(A))?.domain).toBe(portal(A).domain);
  });

  it('a refresh token the OAuth server refuses: 403 install_not_verified, warned with its code', async () => {
    await expect(
      stack.app.installer.install(request(B, { refresh_token: 'f'.repeat(40) })),
    ).rejects.toMatchObject({ statusCode: 403, code: 'install_not_verified' });
    expect(logs('install refused: tokens not confirmed by OAuth', ['memberId', 'code']).at(-1)).toEqual({
      memberId: B,
      code: 'invalid_grant',
    });
  });

  it('an OAuth server answering 401 invalid_token: 403 install_not_verified', async () => {
    const oauth = answering('/oauth/token/', 401, { error: 'invalid_token', error_description: 'test' });
    const { installer } = installerOf(stack, { oauthFetch: oauth.fetch });
    await expect(installer.install(request(B, adminTokens(B), { accessToken: null }))).rejects.toMatchObject({
      statusCode: 403,
      code: 'install_not_verified',
    });
    expect(oauth.seen).toEqual(['/oauth/token/']);
    expect(await stack.app.installations.find(B)).toBeNull();
  });

  it("a non-administrator: 403 install_requires_admin, warned with the user's id, pending dropped", async () => {
    const user = stack.emulator.issueTokens(B, 2);
    await expect(
      stack.app.installer.install(request(B, { refresh_token: user.refresh_token })),
    ).rejects.toMatchObject({ statusCode: 403, code: 'install_requires_admin' });
    expect(await pending()).toEqual([]);
    expect(logs('install refused: not a portal administrator', ['memberId', 'userId']).at(-1)).toEqual({
      memberId: B,
      userId: 2,
    });
  });

  it("a portal failing user.admin: the failure, and the pending grant kept with its user's id", async () => {
    stack.emulator.faults.update({ methods: { 'user.admin': { errorRate: 1, errorStatus: 500 } } });
    try {
      const { refresh_token } = adminTokens(B);
      await expect(stack.app.installer.install(request(B, { refresh_token }))).rejects.toMatchObject({
        kind: 'transient',
      });
      expect((await pending()).map((p) => [p.grantHash, p.memberId, p.userId])).toEqual([
        [sha256(refresh_token), B, portal(B).adminUserId],
      ]);
    } finally {
      stack.emulator.faults.reset();
      await stack.testDb.db.pendingInstall.deleteMany();
    }
  });

  it('an OAuth server failing (500) while a pending grant has this token: the failure, not the grant', async () => {
    const refreshId = 'e'.repeat(40);
    await savePending(refreshId, B, {
      ...(({ access_token, refresh_token }) => ({ accessToken: access_token, refreshToken: refresh_token }))(
        adminTokens(B),
      ),
      expiresAt: new Date(stack.app.now() + 3_600_000),
    });
    stack.emulator.faults.failNext(1, { target: 'oauth', status: 500 });
    try {
      await expect(
        stack.app.installer.install(request(B, { refresh_token: refreshId })),
      ).rejects.toMatchObject({ kind: 'transient', code: 'INTERNAL_SERVER_ERROR' });
      expect(await stack.app.installations.find(B)).toBeNull();
    } finally {
      stack.emulator.faults.reset();
      await stack.testDb.db.pendingInstall.deleteMany();
    }
  });
});

describe('the pending grant of an interrupted install', () => {
  it('is not resumed for another member_id: 403 install_not_verified', async () => {
    const refreshId = 'd'.repeat(40);
    const tokens = adminTokens(A);
    await savePending(refreshId, A, {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(stack.app.now() + 3_600_000),
    });
    try {
      await expect(
        stack.app.installer.install(request(B, { refresh_token: refreshId })),
      ).rejects.toMatchObject({ statusCode: 403, code: 'install_not_verified' });
      expect(await stack.app.installations.find(B)).toBeNull();
    } finally {
      await stack.testDb.db.pendingInstall.deleteMany();
    }
  });

  it('is renewed when its access token ends within a minute (at exactly a minute too), else used as is', async () => {
    // The pending access token is one the portal refuses: only a renewed grant passes user.admin.
    clock.freeze();
    try {
      for (const [leftMs, renewed] of [
        [60_000, true],
        [60_001, false],
      ] as const) {
        const refreshId = `c${leftMs}`.padEnd(40, '0');
        await savePending(refreshId, A, {
          accessToken: 'bogus0token',
          refreshToken: adminTokens(A).refresh_token,
          expiresAt: new Date(stack.app.now() + leftMs),
        });
        const before = refreshes();
        const outcome = await stack.app.installer.install(request(A, { refresh_token: refreshId })).then(
          ({ installation }) => installation.status,
          (error: { code?: string }) => error.code,
        );
        // One refresh refused (the posted, unknown token); a renewal is the second.
        expect([leftMs, outcome, refreshes() - before]).toEqual(
          renewed ? [leftMs, 'active', 2] : [leftMs, 'install_not_verified', 1],
        );
        expect(await pending()).toEqual([]);
      }
    } finally {
      clock.unfreeze();
    }
    // An hour left: the pending pair is stored as it is.
    const refreshId = `c${3_600_000}`.padEnd(40, '0');
    const tokens = adminTokens(A);
    await savePending(refreshId, A, {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(stack.app.now() + 3_600_000),
    });
    const { installation } = await stack.app.installer.install(request(A, { refresh_token: refreshId }));
    const stored = (await stack.app.installations.getTokens(installation.id))!;
    expect([stored.accessToken, stored.refreshToken]).toEqual([tokens.access_token, tokens.refresh_token]);
  });

  it("renewed as another portal's grant: 403 portal_mismatch", async () => {
    const refreshId = 'b'.repeat(40);
    const ofA = adminTokens(A);
    await savePending(refreshId, B, {
      accessToken: ofA.access_token,
      refreshToken: ofA.refresh_token,
      expiresAt: new Date(stack.app.now() + 1_000),
    });
    try {
      await expect(
        stack.app.installer.install(request(B, { refresh_token: refreshId })),
      ).rejects.toMatchObject({ statusCode: 403, code: 'portal_mismatch' });
      expect(await stack.app.installations.find(B)).toBeNull();
    } finally {
      await stack.testDb.db.pendingInstall.deleteMany();
    }
  });

  it('whose access token the portal refuses at the administrator check: 403 install_not_verified, dropped', async () => {
    const refreshId = 'a'.repeat(40);
    await savePending(refreshId, B, {
      accessToken: 'bogus0token',
      refreshToken: 'bogus0refresh',
      expiresAt: new Date(stack.app.now() + 3_600_000),
    });
    await expect(stack.app.installer.install(request(B, { refresh_token: refreshId }))).rejects.toMatchObject(
      { statusCode: 403, code: 'install_not_verified' },
    );
    expect(await pending()).toEqual([]);
  });

  it('the portal answering APPLICATION_NOT_FOUND to user.admin: 403 install_not_verified, dropped', async () => {
    const rest = answering('/user.admin.json', 401, {
      error: 'APPLICATION_NOT_FOUND',
      error_description: 'test',
    });
    const { installer } = installerOf(stack, { restFetch: rest.fetch });
    const refreshId = '9'.repeat(40);
    const tokens = adminTokens(B);
    await savePending(refreshId, B, {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: new Date(stack.app.now() + 3_600_000),
    });
    await expect(installer.install(request(B, { refresh_token: refreshId }))).rejects.toMatchObject({
      statusCode: 403,
      code: 'install_not_verified',
    });
    expect(rest.seen.length).toBe(1);
    expect(await pending()).toEqual([]);
    expect(await stack.app.installations.find(B)).toBeNull();
  });
});

describe("the OAuth server's word on the posted access token", () => {
  it('unavailable (500): the install fails, nothing is spent or stored', async () => {
    const before = refreshes();
    stack.emulator.faults.failNext(1, { target: 'oauth', status: 500 });
    try {
      await expect(stack.app.installer.install(request(B, adminTokens(B)))).rejects.toMatchObject({
        kind: 'transient',
        code: 'INTERNAL_SERVER_ERROR',
      });
    } finally {
      stack.emulator.faults.reset();
    }
    expect(refreshes()).toBe(before);
    expect(await stack.app.installations.find(B)).toBeNull();
  });

  it('at its rate limit: the install fails, nothing is spent or stored', async () => {
    const oauth = answering('/rest/app.info', 503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'x' });
    const { installer } = installerOf(stack, { oauthFetch: oauth.fetch });
    const before = refreshes();
    await expect(installer.install(request(B, adminTokens(B)))).rejects.toMatchObject({
      kind: 'rate_limit',
      code: 'QUERY_LIMIT_EXCEEDED',
    });
    expect(oauth.seen).toEqual(['/rest/app.info']);
    expect(refreshes()).toBe(before);
    expect(await stack.app.installations.find(B)).toBeNull();
  });

  it("another app's token: 403 install_not_verified, warned with the member_id", async () => {
    const other = stack.emulator.issueTokens(B, portal(B).adminUserId, OTHER_APP);
    await expect(stack.app.installer.install(request(B, other))).rejects.toMatchObject({
      statusCode: 403,
      code: 'install_not_verified',
    });
    expect(logs('install refused: the token belongs to another app', ['memberId']).at(-1)).toEqual({
      memberId: B,
    });
  });

  it("another portal's token: 403 portal_mismatch, warned with the member_id and domain", async () => {
    await expect(stack.app.installer.install(request(B, adminTokens(A)))).rejects.toMatchObject({
      statusCode: 403,
      code: 'portal_mismatch',
    });
    expect(logs('install refused: tokens belong to another portal', ['memberId', 'domain']).at(-1)).toEqual({
      memberId: B,
      domain: portal(B).domain,
    });
  });
});

describe('bindings the portal refuses', () => {
  it('a reinstall of an active portal: 502 install_incomplete naming each; still active, with the error', async () => {
    const { installer } = installerOf(stack, { publicUrl: 'http://127.0.0.9:1' });
    const error = await installer.install(request(A, adminTokens(A))).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 502, code: 'install_incomplete' });
    const failed = (error as { details: { failed: { placement: string; code: string }[] } }).details.failed;
    expect(failed).toEqual([
      { placement: 'LANDING_SETTINGS', code: 'PLACEMENT_HANDLER_INVALID' },
      { placement: 'LANDING_BLOCK_*', code: 'PLACEMENT_HANDLER_INVALID' },
      { placement: 'ONAPPUNINSTALL', code: 'ERROR_HANDLER_URL_MATCH' },
    ]);
    expect(await stack.app.installations.find(A)).toMatchObject({
      status: 'active',
      lastError:
        'binding failed: LANDING_SETTINGS (PLACEMENT_HANDLER_INVALID), LANDING_BLOCK_* (PLACEMENT_HANDLER_INVALID), ONAPPUNINSTALL (ERROR_HANDLER_URL_MATCH)',
    });
  });
});

describe('https only', () => {
  it('an https portal passes the protocol check (forged tokens are then refused as unverified)', async () => {
    const { installer } = installerOf(stack, { allowHttp: false });
    await expect(
      installer.install(
        request(B, { access_token: 'f'.repeat(32), refresh_token: 'f'.repeat(40) }, { protocol: 'https' }),
      ),
    ).rejects.toMatchObject({ statusCode: 403, code: 'install_not_verified' });
    await expect(
      installer.install(request(B, { access_token: 'f'.repeat(32), refresh_token: 'f'.repeat(40) })),
    ).rejects.toMatchObject({ statusCode: 400, code: 'https_required' });
  });
});
