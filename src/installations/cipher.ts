// Tokens at rest: AES-256-GCM, each value tagged with the id of the key that sealed it,
// so keys can be rotated (old values stay readable while any configured key matches).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

export interface TokenCipher {
  seal(plain: string): string;
  open(stored: string): string;
  /** True when `stored` is sealed with the current key (false: plaintext or an older key). */
  isCurrent(stored: string): boolean;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

// Keys are read from text in the base layer (config reads them too).
export { parseKey } from '../key-text.js';

/**
 * `current` seals; `previous` keys only open. Plaintext values (written before a key was
 * configured) are read as they are and sealed on their next write.
 */
export function createCipher(current: Buffer, previous: Buffer[] = []): TokenCipher {
  const keys = new Map<string, Buffer>([
    [keyId(current), current],
    ...previous.map((k) => [keyId(k), k] as const),
  ]);
  const currentId = keyId(current);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `${PREFIX}${currentId}:${iv.toString('base64url')}:${tag.toString('base64url')}:${body.toString('base64url')}`;
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, iv, tag, body] = stored.slice(PREFIX.length).split(':');
      const key = id ? keys.get(id) : undefined;
      if (!key || !iv || !tag || body === undefined) {
        throw new Error(
          `token sealed with unknown key ${id ?? '?'}: configure it in TOKEN_ENCRYPTION_KEY_PREVIOUS`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
    isCurrent(stored) {
      return stored.startsWith(`${PREFIX}${currentId}:`);
    },
  };
}

/**
 * For tests and benchmarks of the store alone. The app never stores plaintext: without
 * TOKEN_ENCRYPTION_KEY it seals with a key file's key (key-file.ts).
 */
export const plaintextCipher: TokenCipher = {
  seal: (plain) => plain,
  open: (stored) => {
    if (stored.startsWith(PREFIX)) throw new Error('token is encrypted but TOKEN_ENCRYPTION_KEY is not set');
    return stored;
  },
  isCurrent: (stored) => !stored.startsWith(PREFIX),
};
