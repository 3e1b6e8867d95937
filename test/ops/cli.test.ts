// Every CLI command against emulated portals: the CLI builds its own services on the app's
// database (as `npm run cli` next to a running server does) and talks real HTTP to the portals.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipher, keyId, parseKey } from '../../src/installations/cipher.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import { cli, MEMBER_IDS, type OpsStack, startOpsStack } from './helpers.js';

const [first, second, third] = MEMBER_IDS as [string, string, string];
const MOVED = 'https://moved.example.com';
// Enough placements that a rebind takes several batch requests: 62 placements + 1 event, and on
// a move as many stale ones to unbind: 189 commands, 4 requests per portal.
const BLOCK_CODES = Array.from({ length: 60 }, (_, i) => `repo_${i + 1}`).join(',');

let stack: OpsStack;
beforeAll(async () => {
  stack = await startOpsStack({
    // A tiny bucket (3 requests, 4/s): four batch requests sent at once would overflow it.
    emulator: { limits: { bucketSize: 3, drainPerSecond: 4 } },
    env: { B24_BLOCK_CODES: BLOCK_CODES, B24_RATE_LIMIT_BURST: '3', B24_RATE_LIMIT_PER_SECOND: '4' },
  });
});
afterAll(async () => stack?.close());

const handlersOf = (memberId: string) => {
  const app = stack.emulator.inspect(memberId).apps[0]!;
  return {
    placements: new Set(app.placements.map((p) => p.handler)),
    placementCount: app.placements.length,
    events: app.events.map((e) => `${e.event} ${e.handler}`),
  };
};

describe('installations', () => {
  it('lists every portal with status, token expiry and when its refresh token was renewed', async () => {
    const run = await cli(stack, ['installations']);
    expect(run.code).toBe(0);
    const [header, ...lines] = run.stdout.trim().split('\n');
    expect(header).toMatch(
      /^MEMBER_ID\s+DOMAIN\s+STATUS\s+TOKEN_EXPIRES\s+REFRESH_TOKEN_RENEWED\s+HEALED\s+LAST_ERROR$/,
    );
    expect(lines.at(-1)).toBe("healed by an administrator's visit: 0 of 3 portal(s)");
    const rows = lines.slice(0, -1);
    expect(rows).toHaveLength(3);
    for (const memberId of MEMBER_IDS) {
      const row = rows.find((r) => r.startsWith(memberId))!;
      expect(row).toContain(stack.emulator.portal(memberId).domain);
      // Stored at install: renewed then, 0 days old.
      expect(row).toMatch(
        / active +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(0d\) +0 +-$/,
      );
    }
  });
});

describe('rebind', () => {
  it('after PUBLIC_URL changed, leaves exactly the new handlers on every portal, under the rate limit', async () => {
    const before = MEMBER_IDS.map((m) => stack.emulator.stats.portal(m));
    // The developer moved the app card to the new host too (Bitrix24 refuses handlers elsewhere).
    stack.emulator.setAppUrl(MOVED);
    const run = await cli(stack, ['rebind'], { PUBLIC_URL: MOVED });
    stack.emulator.setAppUrl(stack.appUrl);
    expect(run.stderr).toContain(`rebinding 3 portal(s) to ${MOVED}`);
    expect(run.stdout).toContain('rebound 3 of 3 portal(s): 189 handler(s) bound, 189 stale unbound');
    expect(run.code).toBe(0);
    for (const [i, memberId] of MEMBER_IDS.entries()) {
      const bound = handlersOf(memberId);
      expect(bound.placementCount).toBe(62);
      expect(bound.placements).toEqual(
        new Set([`${MOVED}/placements/settings`, `${MOVED}/placements/block`]),
      );
      expect(bound.events).toEqual([`ONAPPUNINSTALL ${MOVED}/events`]);
      const after = stack.emulator.stats.portal(memberId);
      // Several batch requests, paced by the client's bucket: the portal never refused one.
      expect((after.restByMethod.batch ?? 0) - (before[i]!.restByMethod.batch ?? 0)).toBe(4);
      expect(after.rateLimited).toBe(0);
      expect(after.responses503).toBe(0);
      // What we record matches the portal, so the next move unbinds exactly these.
      const installation = (await stack.app.installations.find(memberId))!;
      const recorded = await stack.app.installations.listBindings(installation.id);
      expect(recorded.every((b) => b.handler.startsWith(MOVED))).toBe(true);
      expect(recorded).toHaveLength(63);
    }
  });

  it('--portal rebinds that portal only', async () => {
    const run = await cli(stack, ['rebind', '--portal', first]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('rebound 1 of 1 portal(s)');
    expect(handlersOf(first).placements).toEqual(
      new Set([`${stack.appUrl}/placements/settings`, `${stack.appUrl}/placements/block`]),
    );
    expect(handlersOf(first).placementCount).toBe(62);
    expect(handlersOf(second).placements).toEqual(
      new Set([`${MOVED}/placements/settings`, `${MOVED}/placements/block`]),
    );
  });

  it('summarises the portals it could not rebind and exits 1', async () => {
    stack.emulator.revokeApp(third);
    const run = await cli(stack, ['rebind']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('rebound 2 of 3 portal(s)');
    expect(run.stdout).toMatch(new RegExp(`failed on 1 portal\\(s\\):\\n  ${third} .*invalid_grant`));
    expect((await stack.app.installations.find(third))?.status).toBe('needs_reinstall');
  });
});

describe('check', () => {
  it('reports the revoked portal as needing a reinstall (exit 2), the others as ok', async () => {
    const run = await cli(stack, ['check']);
    expect(run.code).toBe(2);
    const row = (memberId: string) => run.stdout.split('\n').find((r) => r.startsWith(memberId)) ?? '';
    expect(row(first)).toMatch(/ ok +tokens accepted$/);
    expect(row(second)).toMatch(/ ok /);
    expect(row(third)).toMatch(/ needs_reinstall +invalid_grant/);
    expect(run.stdout).toContain('2 ok, 1 need a reinstall, 0 could not be checked (of 3)');
  });

  it('--portal checks one portal', async () => {
    const run = await cli(stack, ['check', '--portal', second]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 ok, 0 need a reinstall');
  });

  it('names a portal that cannot be reached and exits 1', async () => {
    stack.emulator.faults.update({ methods: { 'app.info': { errorRate: 1, errorStatus: 500 } } });
    try {
      const run = await cli(stack, ['check', '--portal', first]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/ unreachable +/);
    } finally {
      stack.emulator.faults.reset();
    }
  });
});

describe('rotate-key', () => {
  it('re-encrypts every secret under the new key, idempotently, and they still work', async () => {
    // The install page carries no application_token (events do): give each portal one.
    for (const installation of await stack.app.installations.list()) {
      await stack.app.installations.setApplicationToken(installation.id, `app-token-${installation.id}`);
    }
    const newKey = randomBytes(32).toString('hex');
    const rotated = { TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_KEY_PREVIOUS: stack.key };
    const run = await cli(stack, ['rotate-key'], rotated);
    expect(run.code).toBe(0);
    stack.env.TOKEN_ENCRYPTION_KEY = newKey; // what the later tests' CLI runs use
    expect(run.stdout).toContain('token pairs: 3 re-encrypted, 0 already under the current key');
    expect(run.stdout).toContain('application tokens: 3 re-encrypted, 0 already under the current key');

    const again = await cli(stack, ['rotate-key'], rotated);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('token pairs: 0 re-encrypted, 3 already under the current key');

    // Every stored value is sealed with the new key; the old key alone opens none of them.
    const prefix = `enc:v1:${keyId(parseKey(newKey))}:`;
    const rows = await stack.testDb.db.oAuthToken.findMany();
    const installs = await stack.testDb.db.installation.findMany();
    const sealed = [
      ...rows.flatMap((r) => [r.accessToken, r.refreshToken]),
      ...installs.map((i) => i.applicationToken!),
    ];
    expect(sealed).toHaveLength(9);
    expect(sealed.every((v) => v.startsWith(prefix))).toBe(true);
    const oldOnly = new PrismaInstallationStore(stack.testDb.db, createCipher(parseKey(stack.key)));
    await expect(oldOnly.getTokens(rows[0]!.installationId)).rejects.toThrow(/unknown key/);
    const newOnly = new PrismaInstallationStore(stack.testDb.db, createCipher(parseKey(newKey)));
    expect((await newOnly.findById(installs[0]!.id))?.applicationToken).toBe(`app-token-${installs[0]!.id}`);

    // Readable and usable with the new key alone (no previous key configured).
    const withNewKeyOnly = { TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_KEY_PREVIOUS: '' };
    const checked = await cli(stack, ['check', '--portal', first], withNewKeyOnly);
    expect(checked.code).toBe(0);
    const listed = await cli(stack, ['installations'], withNewKeyOnly);
    expect(listed.code).toBe(0);

    // Without the key that sealed them, nothing can be re-encrypted: named, exit 1.
    const lost = await cli(stack, ['rotate-key'], {
      TOKEN_ENCRYPTION_KEY: stack.key,
      TOKEN_ENCRYPTION_KEY_PREVIOUS: '',
    });
    expect(lost.code).toBe(1);
    expect(lost.stdout).toContain('3 unreadable');
    expect(lost.stdout).toContain(first);
  });

  it('refuses without TOKEN_ENCRYPTION_KEY', async () => {
    const run = await cli(stack, ['rotate-key'], { TOKEN_ENCRYPTION_KEY: undefined });
    expect(run.code).toBe(78);
    // SQLite: the app's own key file would be used, but rotating means choosing a key; PostgreSQL
    // refuses to start without the variable at all.
    expect(run.stderr).toMatch(/TOKEN_ENCRYPTION_KEY is (not set|required with PostgreSQL)/);
  });
});

describe('uninstall', () => {
  it('forgets the portal locally', async () => {
    const run = await cli(stack, ['uninstall', '--portal', second]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`forgot portal ${second}`);
    expect(await stack.testDb.db.installation.findUnique({ where: { memberId: second } })).toBeNull();
    const listed = await cli(stack, ['installations']);
    expect(listed.stdout).not.toContain(second);
    expect(listed.stdout).toContain(first);

    const again = await cli(stack, ['uninstall', '--portal', second]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error: no installation with member_id ${second}`);
  });
});

describe('bad command lines', () => {
  it.each([
    [[], /usage: npm run cli/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['uninstall'], /uninstall needs --portal <member_id>/],
    [['rebind', '--portal'], /argument missing|--portal/],
    [['rebind', '--portal', 'a b'], /--portal must be a member_id/],
    [['installations', '--portal', first], /installations takes no --portal/],
    [['check', '--all'], /Unknown option '--all'/],
    [['check', 'extra'], /Unexpected argument 'extra'|positional/],
  ])('%j exits 64 with a message', async (argv, message) => {
    const run = await cli(stack, argv as string[]);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(message);
  });

  it('bad configuration exits 78 naming the variable', async () => {
    const run = await cli(stack, ['installations'], { DATABASE_URL: 'mysql://nope' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('DATABASE_URL must start with file:');
  });

  it('--help lists every command', async () => {
    const run = await cli(stack, ['--help']);
    expect(run.code).toBe(0);
    for (const command of ['installations', 'rebind', 'check', 'rotate-key', 'uninstall']) {
      expect(run.stdout).toContain(command);
    }
  });
});

describe('as a process', () => {
  it('npm run cli (tsx src/cli.ts) reads the environment and exits with the command’s code', async () => {
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, ['src/cli.ts', 'check', '--portal', first], {
      env: { PATH: process.env.PATH ?? '', ...stack.env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toContain('error');
    expect(stdout).toContain(`${first}`);
    expect(stdout).toContain('1 ok, 0 need a reinstall');
    expect(code).toBe(0);
  });
});
