// The install's view of the OAuth server (Installer's OAuthExchange): ask whose access token a
// request carries (spends nothing), or confirm a pair by refreshing it.
import { UnexpectedResponseError } from '../bitrix24/errors.js';
import type { HttpFetch } from '../bitrix24/http.js';
import { OAuthServers } from '../bitrix24/oauth-servers.js';
import type { OAuthExchange } from './installer.js';
import { inspectAccessToken } from './token-inspect.js';
import { type OAuthClientConfig, requestRefreshGrant } from './token-oauth-client.js';

export function oauthExchange(
  client: Pick<OAuthClientConfig, 'clientId' | 'clientSecret'>,
  options: { fetch?: HttpFetch; now: () => number },
): OAuthExchange {
  return {
    async refresh(refreshToken, oauthBase) {
      const grant = await requestRefreshGrant({ ...client, oauthUrl: oauthBase }, refreshToken, {
        now: options.now(),
        ...(options.fetch && { fetch: options.fetch }),
      });
      if (!grant.memberId || !grant.clientEndpoint) {
        throw new UnexpectedResponseError({
          code: 'ERROR_UNEXPECTED_ANSWER',
          status: 200,
          description: 'OAuth answer lacks member_id or client_endpoint',
          method: 'oauth/token',
        });
      }
      return {
        ...grant,
        memberId: grant.memberId,
        clientEndpoint: grant.clientEndpoint,
        // Where the grant came from: later refreshes of this installation go there too.
        serverEndpoint: OAuthServers.endpointOf(oauthBase),
        scope: null,
      };
    },
    inspect: (accessToken, oauthBase) =>
      inspectAccessToken(oauthBase, accessToken, options.fetch ? { fetch: options.fetch } : {}),
  };
}
