// Pages inside the Bitrix24 iframe cannot rely on cookies (third-party frames lose them), so
// each rendered page carries a short-lived signed context that its forms post back. The
// user's AUTH_ID travels inside it encrypted: the page never shows a usable token, and an
// action can act only as the user who opened the widget, on the portal that opened it.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { AppError } from '../errors.js';

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
}

interface Keys {
  mac: Buffer;
  enc: Buffer;
}

export class PageContextSigner {
  private readonly keys: Keys;
  constructor(
    serverSecret: string,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {
    // Separate keys for signing and encrypting, both derived from the app's secret.
    const derive = (info: string) =>
      Buffer.from(hkdfSync('sha256', serverSecret, 'b24-sites-page-context', info, 32));
    this.keys = { mac: derive('mac'), enc: derive('enc') };
  }

  sign(context: PageContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.enc, iv);
    const sealed = Buffer.concat([
      cipher.update(context.userAuth, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const body = {
      m: context.memberId,
      p: context.placement,
      o: context.options,
      l: context.lang,
      a: `${iv.toString('base64url')}.${sealed.toString('base64url')}`,
      ax: context.userAuthExpiresAt,
      u: context.userId,
      exp: Math.min(this.now() + this.ttlMs, context.userAuthExpiresAt),
    };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** Returns the context, or throws 403 `invalid_context` / `expired_context`. */
  verify(token: unknown, expected: { memberId?: string } = {}): PageContext {
    if (typeof token !== 'string' || token.length > 8192) throw invalid();
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) throw invalid();
    const good = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (good.length !== given.length || !timingSafeEqual(good, given)) throw invalid();
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      m: string;
      p: string;
      o: Record<string, string>;
      l: string;
      a: string;
      ax: number;
      u: number;
      exp: number;
    };
    if (body.exp < this.now()) {
      throw new AppError(
        403,
        'expired_context',
        'This page has expired. Close it and open the widget again.',
      );
    }
    if (expected.memberId !== undefined && expected.memberId !== body.m) throw invalid();
    const [iv, sealed] = body.a.split('.');
    const bytes = Buffer.from(sealed ?? '', 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.keys.enc, Buffer.from(iv ?? '', 'base64url'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const userAuth = Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - 16)),
      decipher.final(),
    ]).toString('utf8');
    return {
      memberId: body.m,
      placement: body.p,
      options: body.o,
      lang: body.l,
      userAuth,
      userAuthExpiresAt: body.ax,
      userId: body.u,
    };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.keys.mac).update(payload).digest('base64url');
  }
}

function invalid(): AppError {
  return new AppError(403, 'invalid_context', 'This form was not issued by this app. Open the widget again.');
}
