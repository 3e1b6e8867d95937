import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const base = { PUBLIC_URL: 'https://app.example.com/', B24_CLIENT_ID: 'id', B24_CLIENT_SECRET: 'secret' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: 'file:./data/app.db',
      publicUrl: 'https://app.example.com',
      bitrix24: {
        oauthUrl: 'https://oauth.bitrix.info',
        allowHttp: false,
        rateLimit: { burst: 50, perSecond: 2 },
      },
      tokenEncryptionKey: null,
    });
  });

  it('names every missing or bad variable, one line each', () => {
    const list = problems({
      PORT: 'abc',
      DATABASE_URL: 'mysql://x',
      PUBLIC_URL: 'ftp://x',
      TOKEN_ENCRYPTION_KEY: 'short',
    });
    expect(list).toHaveLength(6);
    expect(list.join('\n')).toMatch(/^PORT must be a port number/m);
    expect(list.join('\n')).toMatch(/^DATABASE_URL must start with file:/m);
    expect(list.join('\n')).toMatch(/^PUBLIC_URL must be an http\(s\) URL/m);
    expect(list.join('\n')).toMatch(/^B24_CLIENT_ID is required/m);
    expect(list.join('\n')).toMatch(/^B24_CLIENT_SECRET is required/m);
    expect(list.join('\n')).toMatch(/^TOKEN_ENCRYPTION_KEY must be 32 bytes/m);
  });

  it('selects PostgreSQL by URL and parses lists and keys', () => {
    const key = 'a'.repeat(64);
    const config = loadConfig({
      ...base,
      DATABASE_URL: 'postgresql://u:p@db:5432/app',
      B24_BLOCK_CODES: '43.4.cover_with_price_text_button_bgimg, repo_1132',
      TOKEN_ENCRYPTION_KEY: key,
      B24_ALLOW_HTTP: '1',
    });
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/app');
    expect(config.bitrix24.blockCodes).toEqual(['43.4.cover_with_price_text_button_bgimg', 'repo_1132']);
    expect(config.tokenEncryptionKey?.length).toBe(32);
    expect(config.bitrix24.allowHttp).toBe(true);
  });

  it('rejects bad block codes', () => {
    expect(problems({ ...base, B24_BLOCK_CODES: 'ok, bad code!' })[0]).toMatch(/B24_BLOCK_CODES/);
  });

  it('requires an encryption key with PostgreSQL, where processes may not share a key file', () => {
    expect(problems({ ...base, DATABASE_URL: 'postgresql://u:p@db:5432/app' })).toEqual([
      expect.stringMatching(/^TOKEN_ENCRYPTION_KEY is required with PostgreSQL: every app process/),
    ]);
    // SQLite outside production: no key needed here; the app makes a key file (key-file.ts).
    expect(problems({ ...base, DATABASE_URL: 'file:./x.db' })).toEqual([]);
  });

  it('takes an empty TOKEN_ENCRYPTION_KEY (as .env.example leaves it) as unset', () => {
    expect(loadConfig({ ...base, TOKEN_ENCRYPTION_KEY: ' ' }).tokenEncryptionKey).toBeNull();
    expect(problems({ ...base, NODE_ENV: 'production', TOKEN_ENCRYPTION_KEY: '' })).toEqual([
      expect.stringMatching(/^TOKEN_ENCRYPTION_KEY is required in production/),
    ]);
  });

  it('requires an encryption key and https in production', () => {
    const list = problems({ ...base, NODE_ENV: 'production', PUBLIC_URL: 'http://app.example.com' });
    expect(list).toEqual([
      expect.stringMatching(/TOKEN_ENCRYPTION_KEY is required in production/),
      expect.stringMatching(/PUBLIC_URL must be https/),
    ]);
  });
});

describe('PUBLIC_URL and the OAuth servers, as Bitrix24 accepts them', () => {
  it('refuses a PUBLIC_URL whose host has no dot (Bitrix24 refuses such handlers), naming the variable', () => {
    for (const url of [
      'http://localhost:3000',
      'https://intranet',
      'http://app.:3000',
      'http://[::1]:3000',
    ]) {
      expect(problems({ ...base, PUBLIC_URL: url, B24_ALLOW_HTTP: 'true' })).toEqual([
        expect.stringMatching(/^PUBLIC_URL host "[^"]*" has no dot: Bitrix24 refuses handlers/),
      ]);
    }
    for (const url of ['http://127.0.0.1:3000', 'https://b24app.example.com']) {
      expect(problems({ ...base, PUBLIC_URL: url, B24_ALLOW_HTTP: 'true' })).toEqual([]);
    }
  });

  it('allows both Bitrix24 OAuth servers by default, plus B24_OAUTH_URL, as origins', () => {
    expect(loadConfig(base).bitrix24.oauthServers).toEqual([
      'https://oauth.bitrix.info',
      'https://oauth.bitrix24.tech',
    ]);
    expect(
      loadConfig({
        ...base,
        B24_OAUTH_SERVERS: 'https://oauth.bitrix24.tech/',
        B24_OAUTH_URL: 'http://127.0.0.1:9999',
      }).bitrix24.oauthServers,
    ).toEqual(['https://oauth.bitrix24.tech', 'http://127.0.0.1:9999']);
    expect(problems({ ...base, B24_OAUTH_SERVERS: 'oauth.bitrix.info' })).toEqual([
      expect.stringContaining('B24_OAUTH_SERVERS'),
    ]);
  });
});
