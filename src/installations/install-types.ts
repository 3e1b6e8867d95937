// The installer's types (installer.ts re-exports them): what an install or a healing visit
// posts, what the OAuth server confirms, and what the installer is given to act with.
import type { Logger } from 'pino';
import type { OAuthServers } from '../bitrix24/oauth-servers.js';
import type { Config } from '../config.js';
import type { BatchCaller, BindReport } from './bind.js';
import type { AppManifest } from './manifest.js';
import type { TokenOwner } from './token-inspect.js';
import type { BindingStore, Installation, InstallationRecords, TokenGrant } from './types.js';

/** What the OAuth server says about a refresh token it accepted. */
export interface VerifiedGrant extends TokenGrant {
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string | null;
  scope: string | null;
}

export interface OAuthExchange {
  /**
   * Spends `refreshToken` at the OAuth server `oauthBase` (an allowed origin); throws a
   * Bitrix24Error (`invalid_grant`...) when the server refuses.
   */
  refresh(refreshToken: string, oauthBase: string): Promise<VerifiedGrant>;
  /**
   * Asks the OAuth server `oauthBase` whose `accessToken` this is, spending nothing; null when
   * its answer does not say. Throws a Bitrix24Error when it refuses the token.
   */
  inspect(accessToken: string, oauthBase: string): Promise<TokenOwner | null>;
}

/** Where a confirmed token is asked whether its user administers the portal. */
export interface AdminCheck {
  /** `user.admin` on `clientEndpoint` with `accessToken`: true only for an administrator. */
  isAdmin(target: { memberId: string; clientEndpoint: string }, accessToken: string): Promise<boolean>;
}

export interface InstallRequest {
  memberId: string;
  domain: string;
  protocol: 'http' | 'https';
  lang: string;
  refreshToken: string;
  /** AUTH_ID / auth[access_token]: confirmed with the OAuth server, which spends nothing. */
  accessToken?: string | null;
  /** Seconds the access token has left (AUTH_EXPIRES; auth[expires_in] in events); default an hour. */
  expiresInSeconds?: number | null;
  /** APPLICATION_SCOPE / auth[scope], as the portal posted it (informational). */
  scope?: string | null;
  /** Set only from the install POST / ONAPPINSTALL; stored only after the admin check passed. */
  applicationToken?: string | null;
  /** SERVER_ENDPOINT / auth[server_endpoint]: the portal's OAuth server, checked against the allowlist. */
  serverEndpoint?: string | null;
}

/** A portal administrator's own tokens from a widget or app-page POST (self-healing). */
export interface HealRequest {
  accessToken: string;
  refreshToken: string;
  /** AUTH_EXPIRES of the visit. */
  expiresInSeconds: number;
}

/**
 * A healed installation, and the administrator's fresh access token: the posted one may stop
 * working once its refresh token is spent (Bitrix24 does not say), so the page acts with this.
 */
export interface Healed {
  installation: Installation;
  accessToken: string;
  expiresAt: Date;
}

export interface InstallResult {
  installation: Installation;
  report: BindReport;
}

export interface InstallerDeps {
  store: InstallationRecords & BindingStore;
  oauth: OAuthExchange;
  /** The allowlist of OAuth servers (B24_OAUTH_SERVERS). */
  servers: OAuthServers;
  admin: AdminCheck;
  /** A REST client acting with the installation's stored tokens. */
  clientFor(installation: Installation): BatchCaller;
  /**
   * A REST client acting with `accessToken` (an install grant's, just confirmed) on `clientEndpoint`:
   * an install binds with it before anything is stored, then writes once.
   */
  clientWith(target: { memberId: string; clientEndpoint: string }, accessToken: string): BatchCaller;
  config: Pick<Config, 'publicUrl'> & { bitrix24: Pick<Config['bitrix24'], 'allowHttp' | 'clientId'> };
  /** What the app binds and subscribes to (placements/registry.ts builds it from the modules). */
  manifest: AppManifest;
  log: Logger;
  now?: () => number;
  /** Refreshes the installation's tokens now (TokenManager.refreshNow): the answer names its endpoint. */
  refreshNow?(installationId: number): Promise<void>;
  /** Told the tokens an install has just stored (TokenManager.adopt): its bind does not read them back. */
  tokensStored?(installationId: number, tokens: TokenGrant): void;
}

/** What confirming a grant needs (install verification and self-healing), besides a clock. */
export type GrantCheckDeps = Pick<InstallerDeps, 'store' | 'oauth' | 'servers' | 'admin' | 'config' | 'log'>;
