// The sealed page context at its bounds (issue #18, mutation survivors of page-context.ts): the
// default time to live is exactly one hour, a context of up to 8192 characters opens and one
// character more never does, and a member_id of one character is a portal while none is not.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { type PageContext, PageContextSigner } from '../../src/placements/page-context.js';

const context: PageContext = {
  memberId: 'a223c6b3710f85df',
  placement: 'LANDING_SETTINGS',
  options: { SITE_ID: '30' },
  lang: 'en',
  userAuth: 'user-auth-id-0123456789abcdef',
  userAuthExpiresAt: 10_000_000_000,
  userId: 7,
};

function verdict(signer: PageContextSigner, token: unknown): string {
  try {
    signer.verify(token);
    return 'opens';
  } catch (error) {
    if (error instanceof AppError) return `${error.statusCode} ${error.code}`;
    throw error;
  }
}

/** A genuine token of exactly `length` characters (its options padded to fit). */
function tokenOfLength(signer: PageContextSigner, length: number): string {
  // base64url never has a length of 4k+1: a member_id one character longer reaches it.
  for (const memberId of ['m1', 'm12']) {
    // The sealed JSON is about 3/4 of the token, some 200 bytes of it not the padding.
    for (let pad = Math.max(0, Math.floor((length * 3) / 4) - 300); pad < length; pad++) {
      const token = signer.sign({ ...context, memberId, options: { SITE_ID: '30', pad: 'x'.repeat(pad) } });
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`no token of ${length} characters`);
}

describe('sealed page context bounds', () => {
  it('lives exactly one hour by default', () => {
    let now = 1_000_000;
    const signer = new PageContextSigner('app-secret', undefined, () => now);
    const token = signer.sign(context);
    now += 3_600_000;
    expect(verdict(signer, token)).toBe('opens');
    now += 1;
    expect(verdict(signer, token)).toBe('403 expired_context');
  });

  it('opens a context of 8192 characters, refuses one of 8193 unread', () => {
    const signer = new PageContextSigner('app-secret', 60_000, () => 1_000_000);
    const longest = tokenOfLength(signer, 8192);
    expect(verdict(signer, longest)).toBe('opens');
    const tooLong = tokenOfLength(signer, 8193);
    expect(verdict(signer, tooLong)).toBe('403 invalid_context');
  });

  it('a one-character member_id is a portal; a context naming none is refused even when sealed', () => {
    const signer = new PageContextSigner('app-secret', 60_000, () => 1_000_000);
    const short = signer.sign({ ...context, memberId: 'a' });
    expect(signer.verify(short).memberId).toBe('a');
    expect(verdict(signer, signer.sign({ ...context, memberId: '' }))).toBe('403 invalid_context');
  });
});
