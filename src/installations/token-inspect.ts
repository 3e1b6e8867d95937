// Whose access token is this, in the OAuth server's own words. b24restdocs
// settings/oauth/simple-way.md names `oauth.bitrix.info/rest/app.info` the source of trusted
// values about a posted token; for a valid token it answers the app's `client_id` and, under
// `install`, the portal's `member_id` and `domain` (what Bitrix24's own sale module checks a
// posted token against: Bitrix\Sale\Exchange\Integration\Router::checkToken). Asking spends
// nothing, unlike a refresh: an install verified this way keeps the posted refresh token
// unused, so a crash before the install is stored loses nothing (issue #19).
import { z } from 'zod';
import { bitrix24Error } from '../bitrix24/errors.js';
import type { HttpFetch } from '../bitrix24/http.js';
import { requestOAuthJson } from './oauth-request.js';

export interface TokenOwner {
  clientId: string;
  memberId: string;
  /** The portal's address as Bitrix24 names it in DOMAIN (host[:port]). */
  domain: string;
}

const METHOD = 'oauth/app.info';

/** Asking spends nothing, so giving up is safe; the administrator's page waits this long at most. */
export const INSPECT_TIMEOUT_MS = 15_000;

const ownerSchema = z.object({
  result: z.object({
    client_id: z.string().min(1),
    install: z.object({ member_id: z.string().min(1), domain: z.string().min(1) }),
  }),
});

export interface InspectOptions {
  fetch?: HttpFetch;
  timeoutMs?: number;
}

/**
 * `POST {oauthBase}/rest/app.info` with `auth` (the token stays out of URLs and logs).
 * Resolves the owner, or null when the server answers without the owner's fields (the caller
 * then verifies another way); throws a Bitrix24Error when the server refuses the token
 * (AuthError: expired or unknown) or cannot be asked (TransientError).
 */
export async function inspectAccessToken(
  oauthBase: string,
  accessToken: string,
  options: InspectOptions = {},
): Promise<TokenOwner | null> {
  // An absolute path: the allowlisted origin's own REST, whatever path the base carries.
  const url = new URL('/rest/app.info', oauthBase);
  const { body } = await requestOAuthJson(
    url,
    {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ auth: accessToken }).toString(),
    },
    {
      method: METHOD,
      call: 'app.info',
      timeoutMs: options.timeoutMs ?? INSPECT_TIMEOUT_MS,
      ...(options.fetch && { fetch: options.fetch }),
      toError: bitrix24Error,
    },
  );
  const parsed = ownerSchema.safeParse(body);
  if (!parsed.success) return null;
  const { client_id, install } = parsed.data.result;
  return { clientId: client_id, memberId: install.member_id, domain: install.domain };
}
