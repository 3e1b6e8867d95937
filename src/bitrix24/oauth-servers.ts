// Which OAuth server a portal's tokens are refreshed against. Portals are served by
// https://oauth.bitrix.info or https://oauth.bitrix24.tech and name theirs in SERVER_ENDPOINT
// (install POST) or auth[server_endpoint] (events), e.g. "https://oauth.bitrix.info/rest/"
// (bitrix24-protocol.md, "OAuth 2.0"; the PHP SDK's DefaultOAuthServerUrl). The name comes from
// an unauthenticated request, so only servers on a fixed allowlist are ever contacted: our
// client secret goes with every refresh.
import { AppError } from '../errors.js';

export class OAuthServers {
  private readonly allowed: ReadonlySet<string>;

  /** `allowed`: origins (scheme://host[:port]); `fallback`: the base URL used when none is named. */
  constructor(
    allowed: readonly string[],
    readonly fallback: string,
  ) {
    this.allowed = new Set(allowed.map((u) => new URL(u).origin));
  }

  /**
   * The OAuth base URL (an origin) for a named server endpoint, or the fallback when none is
   * named. Throws 403 `oauth_server_not_allowed` for anything off the list; nothing is sent.
   */
  resolve(named: string | null | undefined): string {
    if (named === null || named === undefined || named.trim() === '') return new URL(this.fallback).origin;
    let origin: string;
    try {
      origin = new URL(named.trim()).origin;
    } catch {
      throw notAllowed();
    }
    if (!this.allowed.has(origin)) throw notAllowed();
    return origin;
  }

  /** The server endpoint as Bitrix24 writes it, for storing with an installation. */
  static endpointOf(origin: string): string {
    return `${origin}/rest/`;
  }
}

const notAllowed = () =>
  new AppError(
    403,
    'oauth_server_not_allowed',
    'The request names an OAuth server that is not one of Bitrix24’s. Nothing was sent to it.',
  );
