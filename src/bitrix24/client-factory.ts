// Builds clients for an installation (stored tokens, refreshed by the token manager) or for
// the user who opened a widget (their AUTH_ID, never refreshed). Both talk only to the
// installation's stored clientEndpoint and share the portal's rate limits in this process.
import type { Logger } from 'pino';
import { type AccessTokenSource, StaticAccessToken } from './access-token.js';
import { Bitrix24Client } from './client.js';
import { AuthError } from './errors.js';
import type { HttpFetch } from './http.js';
import { PortalLimitsRegistry } from './portal-limits.js';
import { RestClient } from './rest-client.js';
import type { RetryOptions } from './retry-policy.js';

export interface InstallationTokenProvider {
  sourceFor(installationId: number): AccessTokenSource;
}

export interface ClientFactoryOptions {
  tokens: InstallationTokenProvider;
  /** Shared per-portal buckets; one registry per process. */
  limits?: PortalLimitsRegistry;
  logger?: Logger;
  fetch?: HttpFetch;
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Allow http:// client endpoints (local emulator only). */
  allowHttp?: boolean;
}

/** The portal a client talks to: what an installation record names of it. */
export interface ClientTarget {
  id: number;
  memberId: string;
  /** `https://portal.bitrix24.com/rest/`, pinned by a verified install. */
  clientEndpoint: string;
}

export class Bitrix24ClientFactory {
  readonly limits: PortalLimitsRegistry;

  constructor(private readonly options: ClientFactoryOptions) {
    this.limits = options.limits ?? new PortalLimitsRegistry();
  }

  /** Calls on behalf of the installation (the app's stored tokens). */
  forInstallation(installation: ClientTarget): Bitrix24Client {
    return this.build(installation, this.options.tokens.sourceFor(installation.id));
  }

  /** Calls on behalf of the user who opened a widget, with the AUTH_ID from its payload. */
  forUser(installation: Pick<ClientTarget, 'memberId' | 'clientEndpoint'>, authId: string): Bitrix24Client {
    if (typeof authId !== 'string' || !/^[\w.-]{1,512}$/.test(authId)) {
      throw new AuthError({
        code: 'NO_AUTH_FOUND',
        status: 0,
        description: 'missing or malformed AUTH_ID',
        method: '*',
      });
    }
    return this.build(installation, new StaticAccessToken(authId));
  }

  private build(
    installation: Pick<ClientTarget, 'memberId' | 'clientEndpoint'>,
    tokens: AccessTokenSource,
  ): Bitrix24Client {
    return new Bitrix24Client(
      new RestClient({
        endpoint: installation.clientEndpoint,
        memberId: installation.memberId,
        tokens,
        limits: this.limits.forPortal(installation.memberId),
        logger: this.options.logger,
        fetch: this.options.fetch,
        timeoutMs: this.options.timeoutMs,
        retry: this.options.retry,
        allowHttp: this.options.allowHttp,
      }),
    );
  }
}
