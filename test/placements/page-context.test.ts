// The sealed page context: what our forms post back. Tampering with any part, another key,
// another portal or an old token must all fail with 403, and the page never shows the AUTH_ID.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { type PageContext, PageContextSigner } from '../../src/placements/page-context.js';

const context: PageContext = {
  memberId: 'a223c6b3710f85df22e9377d6c4f7553',
  placement: 'LANDING_SETTINGS',
  options: { SITE_ID: '30' },
  lang: 'en',
  userAuth: 'user-auth-id-0123456789abcdef',
  userAuthExpiresAt: 1_000_000 + 3_600_000,
  userId: 7,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? `${error.statusCode} ${error.code}` : String(error);
  }
  return 'no error';
}

describe('PageContextSigner', () => {
  let clock = 1_000_000;
  const signer = new PageContextSigner('app-secret', 60_000, () => clock);

  it('round-trips a context and never shows the AUTH_ID', () => {
    const token = signer.sign(context);
    expect(token.startsWith(`${context.memberId}.`)).toBe(true);
    expect(token).not.toContain(context.userAuth);
    expect(Buffer.from(token.split('.')[1]!, 'base64url').toString('latin1')).not.toContain(context.userAuth);
    expect(signer.verify(token, { memberId: context.memberId })).toEqual(context);
    // Two seals of one context differ (fresh nonce each).
    expect(signer.sign(context)).not.toBe(token);
  });

  it('refuses every altered byte, another portal, another key and junk', () => {
    const token = signer.sign(context);
    const [member, sealed] = token.split('.') as [string, string];
    const bytes = Buffer.from(sealed, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x80;
      expect(codeOf(() => signer.verify(`${member}.${copy.toString('base64url')}`))).toBe(
        '403 invalid_context',
      );
    }
    expect(codeOf(() => signer.verify(`b${token.slice(1)}`))).toBe('403 invalid_context');
    expect(codeOf(() => signer.verify(token, { memberId: 'another' }))).toBe('403 invalid_context');
    expect(codeOf(() => new PageContextSigner('other-secret', 60_000, () => clock).verify(token))).toBe(
      '403 invalid_context',
    );
    for (const junk of [
      '',
      '.',
      'x',
      `${member}.`,
      `${member}.AAAA`,
      `.${sealed}`,
      42,
      null,
      'a'.repeat(9000),
    ]) {
      expect(codeOf(() => signer.verify(junk))).toBe('403 invalid_context');
    }
  });

  it('hands a sealed context out again for the same session and page within a minute', () => {
    clock = 1_000_000;
    const first = signer.signReusable(context, 'session\0LANDING_SETTINGS\0en\0{"SITE_ID":"30"}');
    clock += 59_000;
    expect(signer.signReusable(context, 'session\0LANDING_SETTINGS\0en\0{"SITE_ID":"30"}')).toBe(first);
    // Another page, language or session is another context.
    const other = signer.signReusable(
      { ...context, lang: 'de' },
      'session\0LANDING_SETTINGS\0de\0{"SITE_ID":"30"}',
    );
    expect(other).not.toBe(first);
    expect(signer.verify(other).lang).toBe('de');
    clock += 1_001;
    const fresh = signer.signReusable(context, 'session\0LANDING_SETTINGS\0en\0{"SITE_ID":"30"}');
    expect(fresh).not.toBe(first);
    expect(signer.verify(fresh)).toEqual(context);
  });

  it('expires after its time to live, and never outlives the AUTH_ID', () => {
    const token = signer.sign(context);
    clock += 60_001;
    expect(codeOf(() => signer.verify(token))).toBe('403 expired_context');
    clock = context.userAuthExpiresAt - 10_000;
    const late = signer.sign(context);
    clock += 10_001;
    expect(codeOf(() => signer.verify(late))).toBe('403 expired_context');
  });
});
