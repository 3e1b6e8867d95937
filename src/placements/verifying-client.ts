// A cold widget open in one round trip (issue #17): the user's AUTH_ID is verified by the same
// batch request that loads the page's data. This wraps the user's client so that its first
// batch also carries IDENTITY_COMMANDS; their answers become `identity()`. A page whose loader
// sends no batch still gets its identity, with a request of its own.
import { Bitrix24Client } from '../bitrix24/client.js';
import type { RestClient } from '../bitrix24/rest-client.js';
import { IDENTITY_COMMANDS, type Identity, identify, readIdentity } from './user-verifier.js';

export class VerifyingClient {
  readonly client: Bitrix24Client;
  private answered: Promise<Identity> | undefined;

  constructor(private readonly inner: Bitrix24Client) {
    const rest = inner.rest;
    // Everything but batch is the user's own client (the prototype); batch piggybacks once.
    const wrapped = Object.create(rest) as RestClient;
    wrapped.batch = async (commands, options) => {
      if (this.answered) return rest.batch(commands, options);
      let settle!: (identity: Promise<Identity>) => void;
      this.answered = new Promise<Identity>((resolve) => {
        settle = resolve;
      });
      // Nobody may ask for the identity (the loader failed first): never an unhandled rejection.
      this.answered.catch(() => {});
      let answer: Awaited<ReturnType<RestClient['batch']>>;
      try {
        answer = await rest.batch({ ...IDENTITY_COMMANDS, ...commands }, options);
      } catch (error) {
        // The whole request was refused (a forged AUTH_ID is refused this way): that is the verdict.
        settle(Promise.reject(error));
        throw error;
      }
      settle(Promise.resolve().then(() => readIdentity(answer.result, answer.errors)));
      // The loader sees only its own commands.
      const { __me: _me, __admin: _admin, ...result } = answer.result;
      const { __me: _meError, __admin: _adminError, ...errors } = answer.errors;
      return { ...answer, result, errors };
    };
    this.client = new Bitrix24Client(wrapped);
  }

  /** Who the token belongs to: from the first batch, or asked now if none was sent. */
  identity(): Promise<Identity> {
    return this.answered ?? identify(this.inner);
  }
}
