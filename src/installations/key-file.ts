// Tokens are never stored in plaintext. Without TOKEN_ENCRYPTION_KEY (allowed outside production,
// on SQLite only: see config.ts) the key is a random one kept in a file beside the database,
// created on first start with mode 0600, so the database alone never reveals a token.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.js';
import { providerOf, sqliteFile } from '../db/url.js';
import { parseKey } from './cipher.js';

export interface TokenKey {
  key: Buffer;
  /** Where it came from: the variable, the key file, or (an in-memory database) this process only. */
  source: 'environment' | 'file' | 'memory';
  /** The key file, when source is 'file'. */
  path?: string;
  /** True when this call created the key file. */
  created?: boolean;
}

export class KeyFileError extends Error {
  override name = 'KeyFileError';
  /** True when the only problem is that the key file was not created yet. */
  constructor(
    message: string,
    readonly notCreatedYet = false,
  ) {
    super(message);
  }
}

/** The key file for a SQLite database: `<database file>.key`; null for `:memory:` (no file to pair with). */
export function keyFilePath(databaseUrl: string): string | null {
  if (providerOf(databaseUrl) !== 'sqlite') return null;
  const file = sqliteFile(databaseUrl);
  return file === ':memory:' ? null : `${file}.key`;
}

function readKeyFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  // A key others can read protects nothing: refuse it rather than use it.
  if (mode & 0o077) {
    throw new KeyFileError(
      `token key file ${path} is readable by other users (mode ${mode.toString(8)}): run chmod 600 ${path}`,
    );
  }
  try {
    return parseKey(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KeyFileError(`token key file ${path} is not a key: ${(error as Error).message}`);
  }
}

/**
 * Creates the file atomically: the key is written to a private temporary file, then hard-linked
 * into place, which fails if another process got there first (two processes starting at once
 * both end up with the file's one key, never a half-written one).
 */
function createKeyFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * The key tokens are sealed with: TOKEN_ENCRYPTION_KEY when set, otherwise (outside production,
 * on SQLite) the key file, created when `create` is true and it does not exist yet.
 */
export function resolveTokenKey(
  config: Pick<Config, 'env' | 'databaseUrl' | 'tokenEncryptionKey'>,
  { create = true }: { create?: boolean } = {},
): TokenKey {
  if (config.tokenEncryptionKey) return { key: config.tokenEncryptionKey, source: 'environment' };
  if (config.env === 'production') {
    throw new KeyFileError(
      'TOKEN_ENCRYPTION_KEY is required in production (generate one: openssl rand -hex 32)',
    );
  }
  if (providerOf(config.databaseUrl) !== 'sqlite') {
    throw new KeyFileError(
      'TOKEN_ENCRYPTION_KEY is required with PostgreSQL: every app process must share one key (generate one: openssl rand -hex 32)',
    );
  }
  const path = keyFilePath(config.databaseUrl);
  if (path === null) return { key: randomBytes(32), source: 'memory' };
  if (existsSync(path)) return { key: readKeyFile(path), source: 'file', path, created: false };
  if (!create) {
    throw new KeyFileError(
      `no TOKEN_ENCRYPTION_KEY and no key file ${path} yet: the app creates it on first start`,
      true,
    );
  }
  const created = createKeyFile(path);
  return { key: readKeyFile(path), source: 'file', path, created };
}
