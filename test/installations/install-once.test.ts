// An install binds with the grant's own access token, then writes once (issue #17): the
// installation with its final status, its tokens, the pending install consumed and the bindings,
// in one transaction. Here: a first install whose bind fails is stored with its failure; a bind
// that does not finish stores the install as it stands; a write that fails leaves the pending
// install for a reload; a grant about to end is stored first and bound through the token manager;
// two installs of one new portal at once end with one active installation.
import { EmulatorClock } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallerDeps, InstallRequest } from '../../src/installations/installer.js';
import { type Stack, startStack } from '../helpers/stack.js';
import {
  answering,
  type InstallTokens,
  installerOf,
  installRequest,
  logged,
  sha256,
} from './installer-harness.js';

const FAILS = 'f1f1f1f1';
const UNFINISHED = 'e2e2e2e2';
const WRITE_FAILS = 'd3d3d3d3';
const AT_MINUTE = 'c4c4c4c4';
const PAST_MINUTE = 'b5b5b5b5';
const TWICE = 'a6a6a6a6';

const clock = new EmulatorClock();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    emulator: {
      clock,
      portals: [FAILS, UNFINISHED, WRITE_FAILS, AT_MINUTE, PAST_MINUTE, TWICE].map((memberId) => ({
        memberId,
      })),
    },
  });
});
afterAll(async () => stack?.close());

const portal = (member: string) => stack.emulator.portal(member);
const adminTokens = (member: string) => stack.emulator.issueTokens(member, portal(member).adminUserId);
const refreshes = (member: string) => stack.emulator.stats.portal(member).refreshRequests;
const pendingOf = (member: string) => stack.testDb.db.pendingInstall.count({ where: { memberId: member } });
const desiredKeys = () =>
  stack.app.installer.desired('en').map(({ kind, code, handler, title }) => ({ kind, code, handler, title }));
const recordedKeys = async (id: number) =>
  (await stack.app.installations.listBindings(id)).map(({ boundAt: _at, ...b }) => b);

const request = (member: string, tokens: InstallTokens, over: Partial<InstallRequest> = {}) =>
  installRequest(stack, member, tokens, over);

/** The stack's store with some methods replaced. */
function storeWith(overrides: Partial<InstallerDeps['store']>): InstallerDeps['store'] {
  const store = stack.app.installations;
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof typeof overrides];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a first install whose bind fails', () => {
  it('is stored once with its tokens and the failure, consumes its pending grant, and answers 502', async () => {
    // Every handler on another host than the app's: the portal refuses each binding.
    const { installer } = installerOf(stack, { publicUrl: 'http://127.0.0.9:1' });
    const tokens = adminTokens(FAILS);
    // Verified by a refresh (no access token posted): the answer is pending until the install is written.
    const error = await installer
      .install(request(FAILS, { refresh_token: tokens.refresh_token }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 502, code: 'install_incomplete' });
    expect((error as { details: { failed: unknown[] } }).details.failed).toEqual([
      { placement: 'LANDING_SETTINGS', code: 'PLACEMENT_HANDLER_INVALID' },
      { placement: 'LANDING_BLOCK_*', code: 'PLACEMENT_HANDLER_INVALID' },
      { placement: 'ONAPPUNINSTALL', code: 'ERROR_HANDLER_URL_MATCH' },
    ]);
    const stored = (await stack.app.installations.find(FAILS))!;
    expect(stored).toMatchObject({
      status: 'new',
      applicationToken: 'app0token',
      installGrantHash: sha256(tokens.refresh_token),
      installedAt: null,
      lastError:
        'binding failed: LANDING_SETTINGS (PLACEMENT_HANDLER_INVALID), LANDING_BLOCK_* (PLACEMENT_HANDLER_INVALID), ONAPPUNINSTALL (ERROR_HANDLER_URL_MATCH)',
      lastErrorAt: expect.any(Date),
    });
    expect(await recordedKeys(stored.id)).toEqual([]);
    expect(await pendingOf(FAILS)).toBe(0);
    // The pair the OAuth server issued is stored, once, and it works.
    const stored_tokens = (await stack.app.installations.getTokens(stored.id))!;
    expect(stored_tokens.version).toBe(0);
    expect(stored_tokens.refreshToken).not.toBe(tokens.refresh_token);
    const info = await stack.app.clients.forInstallation(stored).app.info(undefined);
    expect(info.CODE).toBe(stack.emulator.apps[0]!.clientId);

    // A re-run of the install finishes it.
    const { installation } = await stack.app.installer.install(request(FAILS, adminTokens(FAILS)));
    expect(await stack.app.installations.find(FAILS)).toMatchObject({
      id: stored.id,
      status: 'active',
      lastError: null,
      lastErrorAt: null,
      installedAt: expect.any(Date),
    });
    expect(await recordedKeys(installation.id)).toEqual(desiredKeys());
  });
});

describe('a first install whose bind does not finish', () => {
  it('is stored as it stands (no bindings, no error), the failure thrown; a reload of the page binds', async () => {
    const batch = answering('/batch.json', 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'x' });
    const { installer } = installerOf(stack, { restFetch: batch.fetch });
    const tokens = adminTokens(UNFINISHED);
    await expect(installer.install(request(UNFINISHED, tokens))).rejects.toMatchObject({
      kind: 'transient',
    });
    expect(batch.seen.length).toBeGreaterThan(0);
    const stored = (await stack.app.installations.find(UNFINISHED))!;
    expect(stored).toMatchObject({
      status: 'new',
      lastError: null,
      installGrantHash: sha256(tokens.refresh_token),
    });
    expect(await recordedKeys(stored.id)).toEqual([]);
    expect((await stack.app.installations.getTokens(stored.id))?.accessToken).toBe(tokens.access_token);

    // The same install page again: recognised as a reload, bound with the stored tokens.
    await stack.app.installer.install(request(UNFINISHED, tokens));
    expect(await stack.app.installations.find(UNFINISHED)).toMatchObject({
      status: 'active',
      lastError: null,
    });
    expect(await recordedKeys(stored.id)).toEqual(desiredKeys());
  });
});

describe('a first install whose write fails', () => {
  it('leaves its pending grant, which a reload of the install page resumes', async () => {
    let failures = 0;
    const { installer } = installerOf(stack, {
      store: storeWith({
        saveInstall: () => {
          failures += 1;
          return Promise.reject(new Error('database unavailable'));
        },
      }),
    });
    const tokens = adminTokens(WRITE_FAILS);
    const posted = request(WRITE_FAILS, { refresh_token: tokens.refresh_token });
    await expect(installer.install(posted)).rejects.toThrow('database unavailable');
    expect(failures).toBe(1);
    expect(await stack.app.installations.find(WRITE_FAILS)).toBeNull();
    expect(await pendingOf(WRITE_FAILS)).toBe(1);

    const before = refreshes(WRITE_FAILS);
    const { installation } = await stack.app.installer.install(posted);
    expect(installation.status).toBe('active');
    // The posted (spent) token tried once and refused; the pending grant is what was stored.
    expect(refreshes(WRITE_FAILS) - before).toBe(1);
    expect(await pendingOf(WRITE_FAILS)).toBe(0);
    expect(await recordedKeys(installation.id)).toEqual(desiredKeys());
  });
});

describe('a grant whose access token ends within a minute', () => {
  it('is stored first and bound through the token manager, which refreshes it; past a minute, bound with it', async () => {
    clock.freeze();
    try {
      for (const [member, seconds] of [
        [AT_MINUTE, 60],
        [PAST_MINUTE, 61],
      ] as const) {
        const tokens = adminTokens(member);
        const before = refreshes(member);
        // An install abandoned over a week ago: either order of the write drops it.
        await stack.testDb.db.pendingInstall.create({
          data: {
            grantHash: `abandoned-${member}`,
            memberId: 'abandoned',
            clientEndpoint: 'https://abandoned.example/rest/',
            accessToken: 'x',
            refreshToken: 'x',
            expiresAt: new Date(),
            createdAt: new Date(Date.now() - 8 * 86_400_000),
          },
        });
        const { installation } = await stack.app.installer.install(
          request(member, tokens, { expiresInSeconds: seconds }),
        );
        expect(await pendingOf('abandoned')).toBe(0);
        // Stored first (status new until bound), or bound first and stored active.
        expect(
          logged(stack.logs.lines, 'installation saved', ['memberId', 'domain', 'status']).at(-1),
        ).toEqual({
          memberId: member,
          domain: portal(member).domain,
          status: seconds === 60 ? 'new' : 'active',
        });
        const stored = (await stack.app.installations.getTokens(installation.id))!;
        expect([
          seconds,
          installation.status,
          refreshes(member) - before,
          stored.accessToken === tokens.access_token,
          stored.version,
        ]).toEqual(seconds === 60 ? [60, 'active', 1, false, 1] : [61, 'active', 0, true, 0]);
        expect(await stack.app.installations.find(member)).toMatchObject({
          status: 'active',
          lastError: null,
        });
        expect(await recordedKeys(installation.id)).toEqual(desiredKeys());
      }
    } finally {
      clock.unfreeze();
    }
  });
});

describe('two installs of one new portal at once', () => {
  it('both find no installation; the second write updates the first one: one row, active, bound once', async () => {
    // Neither install goes on before both have read: each takes the portal for a first install.
    let read = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const store = stack.app.installations;
    const { installer } = installerOf(stack, {
      store: storeWith({
        find: async (memberId: string) => {
          const found = await store.find(memberId);
          read += 1;
          if (read === 2) bothRead();
          await barrier;
          return found;
        },
      }),
    });
    const [first, second] = await Promise.all([
      installer.install(request(TWICE, adminTokens(TWICE))),
      installer.install(request(TWICE, adminTokens(TWICE))),
    ]);
    expect(read).toBe(2);
    expect([first.installation.status, second.installation.status]).toEqual(['active', 'active']);
    expect(first.installation.id).toBe(second.installation.id);
    expect(await stack.testDb.db.installation.count({ where: { memberId: TWICE } })).toBe(1);
    expect(await store.find(TWICE)).toMatchObject({ status: 'active', lastError: null });
    // Both wrote their tokens: the second write replaced the first one's.
    expect((await store.getTokens(first.installation.id))?.version).toBe(1);
    expect(await recordedKeys(first.installation.id)).toEqual(desiredKeys());
  });
});
