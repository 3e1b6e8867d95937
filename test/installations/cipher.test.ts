// The token cipher alone (issue #18, mutation survivors of cipher.ts): values written before a
// key was configured are read as they are, and "sealed with the current key" is exact, so the
// store re-seals exactly the values that need it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCipher, plaintextCipher } from '../../src/installations/cipher.js';

const current = Buffer.alloc(32, 1);
const previous = Buffer.alloc(32, 2);

describe('token cipher', () => {
  it('reads a plaintext value (written before a key existed) as it is', () => {
    expect(createCipher(current).open('plain-refresh-token')).toBe('plain-refresh-token');
  });

  it('a value is current only when sealed with the current key', () => {
    const cipher = createCipher(current, [previous]);
    const sealed = cipher.seal('token-1');
    expect(cipher.isCurrent(sealed)).toBe(true);
    expect(cipher.open(sealed)).toBe('token-1');
    const old = createCipher(previous).seal('token-2');
    expect(cipher.isCurrent(old)).toBe(false);
    expect(cipher.open(old)).toBe('token-2');
    expect(cipher.isCurrent('token-3')).toBe(false);
    expect(createCipher(randomBytes(32)).isCurrent(sealed)).toBe(false);
  });

  it('the plaintext cipher (tests, benchmarks) calls plaintext current and refuses sealed values', () => {
    const sealed = createCipher(current).seal('token-4');
    expect(plaintextCipher.isCurrent('token-4')).toBe(true);
    expect(plaintextCipher.isCurrent(sealed)).toBe(false);
    expect(plaintextCipher.seal('token-4')).toBe('token-4');
    expect(() => plaintextCipher.open(sealed)).toThrow(
      'token is encrypted but TOKEN_ENCRYPTION_KEY is not set',
    );
  });
});
