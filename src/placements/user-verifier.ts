// A widget's AUTH_ID comes from an unauthenticated POST. Before acting on it we ask the
// installation's pinned portal who it belongs to and whether they administer the portal
// (user.current and user.admin in one batch: one request, as a single call would be), once per
// token: the answer is cached until the token expires, so widgets stay fast.
import { hash } from 'node:crypto';
import type { Bitrix24Client } from '../bitrix24/client.js';
import { type Bitrix24Error, isBitrix24Error, UnexpectedResponseError } from '../bitrix24/errors.js';
import { methods } from '../bitrix24/methods.js';
import { setBounded } from '../bounded-map.js';
import { AppError } from '../errors.js';

export interface VerifiedUser {
  userId: number;
  /** The portal says this user is an administrator (user.admin); pages show admin-only parts by it. */
  admin: boolean;
  /** Names this user's session (portal + AUTH_ID) without holding the token: a hash. */
  sessionKey: string;
}

interface Entry {
  userId: number;
  admin: boolean;
  until: number;
}

export interface Identity {
  userId: number;
  admin: boolean;
}

/** The batch commands that say who a token belongs to (named so they never clash with a view's). */
export const IDENTITY_COMMANDS = {
  __me: methods.user.current.command(),
  __admin: methods.user.admin.command(),
};

/** Reads IDENTITY_COMMANDS' answers; an error of `__me` is the token's verdict. */
export function readIdentity(
  result: Record<string, unknown>,
  errors: Record<string, Bitrix24Error>,
): Identity {
  if (errors.__me) throw errors.__me;
  const me = methods.user.current.read(result.__me);
  if (!me) {
    throw new UnexpectedResponseError({
      code: 'ERROR_UNEXPECTED_ANSWER',
      status: 200,
      description: 'user.current answer has no ID',
      method: methods.user.current.name,
    });
  }
  // Only a real `true` makes an administrator; an error or anything else does not.
  return { userId: me.ID, admin: result.__admin === true };
}

/** Who the token belongs to, in one batch request of its own. */
export async function identify(client: Bitrix24Client): Promise<Identity> {
  const { result, errors } = await client.rest.batch({ ...IDENTITY_COMMANDS });
  return readIdentity(result, errors);
}

export class UserTokenVerifier {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  async verify(
    memberId: string,
    authId: string,
    expiresAt: number,
    /** Builds the user's client: a cache hit never needs one. */
    userClient: () => Bitrix24Client,
    /**
     * How to ask on a miss (default: a batch of its own). A cold widget open passes one that
     * carries IDENTITY_COMMANDS in the view's own batch: one round trip for both.
     */
    identifyWith: () => Promise<Identity> = () => identify(userClient()),
  ): Promise<VerifiedUser> {
    // Keyed by a hash: the cache never holds a usable token.
    // crypto.hash: the one-shot form, cheaper than a Hash object on every widget open.
    const key = hash('sha256', `${memberId}\0${authId}`, 'base64url');
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      // Refresh its place: the map's order is the eviction order (least recently used first).
      setBounded(this.cache, key, hit, this.maxEntries);
      return { userId: hit.userId, admin: hit.admin, sessionKey: key };
    }
    if (hit) this.cache.delete(key);
    let who: Identity;
    try {
      who = await identifyWith();
    } catch (error) {
      if (isBitrix24Error(error) && (error.kind === 'auth' || error.kind === 'access')) {
        throw new AppError(
          401,
          'invalid_user_token',
          'Bitrix24 did not accept your session. Close the widget and open it again.',
        );
      }
      throw error;
    }
    const entry: Entry = { ...who, until: Math.min(expiresAt, now + 3600_000) };
    setBounded(this.cache, key, entry, this.maxEntries);
    return { ...who, sessionKey: key };
  }
}
