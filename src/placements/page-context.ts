// Pages inside the Bitrix24 iframe cannot rely on cookies (third-party frames lose them), so
// each rendered page carries a short-lived sealed context that its forms post back. The
// whole context, the user's AUTH_ID included, is encrypted and authenticated in one AES-GCM
// pass: the page never shows a usable token, and an action can act only as the user who
// opened the widget, on the portal that opened it. The portal's member_id stays readable in
// front (bound to the seal as associated data) so rate limits can count per portal.
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomFillSync,
} from 'node:crypto';
import { setBounded } from '../bounded-map.js';
import { AppError } from '../errors.js';

/**
 * AES-GCM nonces (12 random bytes, each used once) cut from a pooled random buffer: one call
 * into the CSPRNG per 512 pages instead of one per page, which showed in widget-open profiles.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ivPool = Buffer.alloc(IV_BYTES * 512);
let ivOffset = ivPool.length;
function freshIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** Names the format: a token sealed for another purpose or version never opens here. */
const aad = (memberId: string) => Buffer.from(`b24-sites-page-context/2\0${memberId}`);

export interface PageContext {
  memberId: string;
  /** The placement code as Bitrix24 sent it. */
  placement: string;
  options: Record<string, string>;
  lang: string;
  /** The AUTH_ID of the user who opened the widget. */
  userAuth: string;
  /** When that AUTH_ID itself expires (ms since epoch). */
  userAuthExpiresAt: number;
  /** The user the portal says owns that AUTH_ID. */
  userId: number;
  /** The portal said that user is an administrator (when the page was opened). */
  admin?: boolean;
}

interface SealedBody {
  p: string;
  o: Record<string, string>;
  l: string;
  a: string;
  ax: number;
  u: number;
  /** 1 when the user is a portal administrator. */
  ad?: 1;
  exp: number;
}

/** How long a sealed context may be handed out again for the same session and page. */
const REUSE_MS = 60_000;
const REUSE_MAX_ENTRIES = 10_000;

export class PageContextSigner {
  private readonly key: KeyObject;
  /** Recently sealed contexts by reuse key; a reopen within a minute gets the same one. */
  private readonly recent = new Map<string, { token: string; sealedAt: number }>();
  constructor(
    serverSecret: string,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own, derived from the app's secret (never the secret itself).
    this.key = createSecretKey(
      Buffer.from(hkdfSync('sha256', serverSecret, 'b24-sites-page-context', 'seal', 32)),
    );
  }

  /**
   * Like sign(), but a context sealed for the same `reuseKey` (same session, page and
   * language; see openWidget) within the last minute is handed out again: sealing costs more
   * than the rest of a warm widget open, and widgets are reopened often. The reused token
   * expires at most a minute earlier than a fresh one would.
   */
  signReusable(context: PageContext, reuseKey: string): string {
    const now = this.now();
    const hit = this.recent.get(reuseKey);
    if (hit && hit.sealedAt > now - REUSE_MS) return hit.token;
    const token = this.sign(context);
    setBounded(this.recent, reuseKey, { token, sealedAt: now }, REUSE_MAX_ENTRIES);
    return token;
  }

  /** `<member_id>.<base64url(iv ‖ ciphertext ‖ tag)>` */
  sign(context: PageContext): string {
    const body: SealedBody = {
      p: context.placement,
      o: context.options,
      l: context.lang,
      a: context.userAuth,
      ax: context.userAuthExpiresAt,
      u: context.userId,
      ...(context.admin && { ad: 1 as const }),
      exp: Math.min(this.now() + this.ttlMs, context.userAuthExpiresAt),
    };
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(context.memberId));
    const sealed = Buffer.concat([
      iv,
      cipher.update(JSON.stringify(body), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${context.memberId}.${sealed.toString('base64url')}`;
  }

  /** Returns the context, or throws 403 `invalid_context` / `expired_context`. */
  verify(token: unknown, expected: { memberId?: string } = {}): PageContext {
    if (typeof token !== 'string' || token.length > 8192) throw invalid();
    const dot = token.indexOf('.');
    if (dot < 1) throw invalid();
    const memberId = token.slice(0, dot);
    if (expected.memberId !== undefined && expected.memberId !== memberId) throw invalid();
    const bytes = Buffer.from(token.slice(dot + 1), 'base64url');
    // Saves work only: a shorter token fails the tag check or parses to nothing (no plaintext).
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent (docs/mutation.md)
    if (bytes.length <= IV_BYTES + TAG_BYTES) throw invalid();
    let body: SealedBody;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(aad(memberId));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      body = JSON.parse(plain.toString('utf8')) as SealedBody;
    } catch {
      // A wrong tag (forged, altered or from another key) or a body that is not ours.
      throw invalid();
    }
    if (body.exp < this.now()) {
      throw new AppError(
        403,
        'expired_context',
        'This page has expired. Close it and open the widget again.',
      );
    }
    return {
      memberId,
      placement: body.p,
      options: body.o,
      lang: body.l,
      userAuth: body.a,
      userAuthExpiresAt: body.ax,
      userId: body.u,
      ...(body.ad === 1 && { admin: true }),
    };
  }
}

function invalid(): AppError {
  return new AppError(403, 'invalid_context', 'This form was not issued by this app. Open the widget again.');
}
