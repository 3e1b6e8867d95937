// The refresh grant against the Bitrix24 OAuth server. One request, no retries: a refresh
// token is single-use, so whether to try again is the token manager's decision.
import { z } from 'zod';
import {
  type Bitrix24Error,
  bitrix24Error,
  PaymentRequiredError,
  ReinstallRequiredError,
  type TransientError,
  UnexpectedResponseError,
} from '../bitrix24/errors.js';
import type { HttpFetch } from '../bitrix24/http.js';
import { requestOAuthJson } from './oauth-request.js';
import type { TokenGrant } from './types.js';

export interface OAuthClientConfig {
  /** e.g. https://oauth.bitrix.info (no trailing slash needed). */
  oauthUrl: string;
  clientId: string;
  clientSecret: string;
}

const OAUTH_METHOD = 'oauth/token';

const numeric = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const grantSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: numeric.optional(),
  expires: numeric.optional(),
  member_id: z.string().optional(),
  user_id: numeric.optional(),
  client_endpoint: z.string().optional(),
});

export interface RefreshedGrant extends TokenGrant {
  memberId: string | undefined;
  clientEndpoint: string | undefined;
}

/**
 * The OAuth server may rotate the refresh token however late it answers; giving up earlier
 * throws away a pair it issued (issue #19: at 10 s, 8 of 12 portals were lost to an 11 s server).
 */
export const MIN_OAUTH_TIMEOUT_MS = 60_000;

/**
 * OAuth answers after which asking again cannot help (b24restdocs api-reference/oauth/error-codes.md:
 * invalid_grant, invalid_client "the application may not be installed"; /work/shared/bitrix24-protocol.md:
 * invalid_client is terminal, PAYMENT_REQUIRED). On REST these codes mean other things, so the
 * mapping lives here, not in the shared code table.
 */
function oauthError(init: ConstructorParameters<typeof TransientError>[0]): Bitrix24Error {
  if (init.code === 'invalid_grant' || init.code === 'invalid_client')
    return new ReinstallRequiredError(init);
  if (init.code.toUpperCase() === 'PAYMENT_REQUIRED')
    return new PaymentRequiredError({ ...init, code: 'PAYMENT_REQUIRED' });
  return bitrix24Error(init);
}

export interface RefreshRequestOptions {
  fetch?: HttpFetch;
  /** At least MIN_OAUTH_TIMEOUT_MS whatever is asked. */
  timeoutMs?: number;
  /** Current time in ms, for computing the expiry from expires_in. */
  now: number;
}

/** `GET {oauthUrl}/oauth/token/?grant_type=refresh_token&...`. Throws typed Bitrix24 errors. */
export async function requestRefreshGrant(
  config: OAuthClientConfig,
  refreshToken: string,
  options: RefreshRequestOptions,
): Promise<RefreshedGrant> {
  // An absolute path: the base's own path (and a trailing slash or not) does not matter.
  const url = new URL('/oauth/token/', config.oauthUrl);
  url.search = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: config.clientId,
    client_secret: config.clientSecret,
    refresh_token: refreshToken,
  }).toString();
  const { status, body } = await requestOAuthJson(
    url,
    { method: 'GET', headers: { accept: 'application/json' } },
    {
      method: OAUTH_METHOD,
      timeoutMs: Math.max(MIN_OAUTH_TIMEOUT_MS, options.timeoutMs ?? 0),
      ...(options.fetch && { fetch: options.fetch }),
      toError: oauthError,
    },
  );
  const parsed = grantSchema.safeParse(body);
  if (!parsed.success) {
    throw new UnexpectedResponseError({
      code: 'ERROR_UNEXPECTED_ANSWER',
      status,
      description: 'OAuth answer lacks access_token/refresh_token',
      method: OAUTH_METHOD,
    });
  }
  const grant = parsed.data;
  const lifetimeSeconds = grant.expires_in ?? 3600;
  return {
    accessToken: grant.access_token,
    refreshToken: grant.refresh_token,
    expiresAt: new Date(options.now + lifetimeSeconds * 1000),
    userId: grant.user_id ?? null,
    memberId: grant.member_id,
    clientEndpoint: grant.client_endpoint,
  };
}
