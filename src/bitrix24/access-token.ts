// Where a client gets the token it sends. Installation clients renew through the token
// manager (refresh, single-flight, shared across processes); widget-user clients cannot.
import { AuthError, type Bitrix24Error } from './errors.js';

export interface AccessTokenSource {
  /** A token to send now. */
  get(): Promise<string>;
  /**
   * The portal rejected `rejected` (expired or unknown). Returns the token to retry with,
   * or throws (AuthError, ReinstallRequiredError) when there is none.
   */
  renew(rejected: string, error: Bitrix24Error): Promise<string>;
}

/** A widget user's AUTH_ID from the placement payload: used as is, never refreshed. */
export class StaticAccessToken implements AccessTokenSource {
  constructor(private readonly token: string) {}

  async get(): Promise<string> {
    return this.token;
  }

  async renew(_rejected: string, error: Bitrix24Error): Promise<string> {
    throw new AuthError({
      code: error.code,
      status: error.status,
      description: `the user's token was rejected (${error.code}); the widget must be reopened for a new one`,
      method: error.method,
      cause: error,
    });
  }
}
