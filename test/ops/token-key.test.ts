// Never plaintext tokens: with TOKEN_ENCRYPTION_KEY, or without it (outside production, SQLite)
// through a key file beside the database, created 0600 on first start. The proof reads the
// database file's bytes and looks for every token the OAuth server ever issued.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from 'bitrix24-emulator';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { keyId } from '../../src/installations/cipher.js';
import { keyFilePath, resolveTokenKey } from '../../src/installations/key-file.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { cliWithEnv } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'token-key-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dev = (databaseUrl: string) => ({ env: 'development' as const, databaseUrl, tokenEncryptionKey: null });

describe('the key file', () => {
  it('is created beside the SQLite database with mode 0600 on first start, then reused', () => {
    const url = `file:${join(tmp, 'a', 'app.db')}`;
    const first = resolveTokenKey(dev(url));
    expect(first).toMatchObject({ source: 'file', path: join(tmp, 'a', 'app.db.key'), created: true });
    expect(statSync(first.path!).mode & 0o777).toBe(0o600);
    const second = resolveTokenKey(dev(url));
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
    expect(readdirSync(join(tmp, 'a'))).toEqual(['app.db.key']);
  });

  it('is refused when other users can read it, or when it holds no key', () => {
    const url = `file:${join(tmp, 'b', 'app.db')}`;
    const { path } = resolveTokenKey(dev(url));
    chmodSync(path!, 0o644);
    expect(() => resolveTokenKey(dev(url))).toThrow(/readable by other users \(mode 644\): run chmod 600/);
    chmodSync(path!, 0o600);
    writeFileSync(path!, 'not a key\n');
    expect(() => resolveTokenKey(dev(url))).toThrow(/is not a key: must be 32 bytes/);
  });

  it('is never made in production or for PostgreSQL, and not by a read-only look', () => {
    const url = `file:${join(tmp, 'c', 'app.db')}`;
    expect(() => resolveTokenKey({ ...dev(url), env: 'production' })).toThrow(/required in production/);
    expect(() => resolveTokenKey(dev('postgresql://u@db/app'))).toThrow(/required with PostgreSQL/);
    expect(() => resolveTokenKey(dev(url), { create: false })).toThrow(/creates it on first start/);
    expect(existsSync(keyFilePath(url)!)).toBe(false);
    const key = randomBytes(32);
    expect(resolveTokenKey({ ...dev(url), tokenEncryptionKey: key })).toEqual({ key, source: 'environment' });
  });

  it('processes starting at once all end up with the one key in the file', async () => {
    const url = `file:${join(tmp, 'race', 'app.db')}`;
    // Each process waits for the same instant, so their checks and creations overlap.
    const startAt = Date.now() + 4000;
    const script = `import { resolveTokenKey } from './src/installations/key-file.ts';
import { keyId } from './src/installations/cipher.ts';
while (Date.now() < ${startAt});
console.log(keyId(resolveTokenKey({ env: 'development', databaseUrl: ${JSON.stringify(url)}, tokenEncryptionKey: null }).key));`;
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const ids = await Promise.all(
      Array.from({ length: 6 }, () => {
        const child = spawn(tsx, ['--eval', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        return new Promise<string>((resolve) => child.on('exit', () => resolve(out.trim())));
      }),
    );
    const fileKey = resolveTokenKey(dev(url)).key;
    expect(ids).toEqual(Array(6).fill(keyId(fileKey)));
    expect(readdirSync(join(tmp, 'race'))).toEqual(['app.db.key']);
  });
});

describe('no token in the database file', () => {
  const key = randomBytes(32).toString('hex');
  it.each([
    ['TOKEN_ENCRYPTION_KEY set', { NODE_ENV: 'development', TOKEN_ENCRYPTION_KEY: key }],
    ['no key: the key file (development)', { NODE_ENV: 'development' }],
    ['no key: the key file (test)', { NODE_ENV: 'test' }],
    ['production', { NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: key }],
  ])('%s', async (_mode, env: Record<string, string>) => {
    const memberId = randomBytes(16).toString('hex');
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const emulator = await startEmulator({ appUrl, portals: [{ memberId }] });
    const testDb = await createTestDatabase('sqlite');
    const dbFile = testDb.url.slice('file:'.length);
    try {
      const appEnv: Record<string, string> = {
        PUBLIC_URL: appUrl,
        B24_CLIENT_ID: emulator.apps[0]!.clientId,
        B24_CLIENT_SECRET: emulator.apps[0]!.clientSecret,
        B24_OAUTH_URL: emulator.oauthUrl,
        B24_ALLOW_HTTP: 'true',
        DATABASE_URL: testDb.url,
        ...env,
      };
      const config = loadConfig(appEnv);
      const app = await buildApp(config, {
        db: { db: testDb.db, provider: 'sqlite' },
        logger: createLogger('warn', new LogCapture().stream),
        now: () => emulator.clock.now(),
      });
      await app.listen({ host: '127.0.0.1', port });
      try {
        expect((await emulator.installApp(memberId, { lang: 'en' })).status).toBe(200);
        expect(await testDb.db.oAuthToken.count()).toBe(1);
      } finally {
        await app.close();
      }
      await testDb.db.$disconnect();

      const issued = [...emulator.state.accessTokens.keys(), ...emulator.state.refreshTokens.keys()];
      expect(issued.length).toBeGreaterThanOrEqual(2); // the install's pair, stored as posted
      const files = [dbFile, `${dbFile}-wal`].filter(existsSync);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      expect(bytes.includes('enc:v1:')).toBe(true);
      for (const token of issued) expect(bytes.includes(token), `token ${token} in ${files}`).toBe(false);
      if (env.TOKEN_ENCRYPTION_KEY) {
        expect(existsSync(`${dbFile}.key`)).toBe(false);
        return;
      }
      expect(statSync(`${dbFile}.key`).mode & 0o777).toBe(0o600);
      // The doctor opens them with the key file, and says what to do when it is gone.
      const doctorEnv = { ...appEnv, B24_OAUTH_SERVERS: emulator.oauthUrl };
      const keyLine = (out: string) => out.split('\n').find((l) => / token key /.test(l));
      expect(keyLine((await cliWithEnv(['doctor'], doctorEnv)).stdout)).toMatch(
        /^ok .*key file .*\.db\.key .*decrypts all \d+ stored token value/,
      );
      renameSync(`${dbFile}.key`, `${dbFile}.key.moved`);
      const lost = await cliWithEnv(['doctor'], doctorEnv);
      expect(lost.code).toBe(1);
      expect(keyLine(lost.stdout)).toMatch(
        /^FAIL .*no key file, but \d+ sealed token value\(s\) are stored: restore the key file/,
      );
    } finally {
      await emulator.close();
      await testDb.close();
    }
  });
});
