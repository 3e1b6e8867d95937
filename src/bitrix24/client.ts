// The client callers use: raw call/batch/list plus every definition of methods.ts bound as a
// typed call named after its REST method (client.landing.repo.bind(...), client.app.info()).
import type { BatchCommands } from './batch-plan.js';
import { isMethodDefinition, type MethodCaller } from './define-method.js';
import { methods } from './methods.js';
import type {
  BatchOptions,
  BatchResult,
  CallOptions,
  ListOptions,
  Params,
  RestClient,
} from './rest-client.js';
import type { RestAnswer } from './rest-transport.js';

/** A tree of definitions with each definition replaced by its typed call. */
type Bound<T> = {
  readonly [K in keyof T]: T[K] extends { bind: (caller: MethodCaller) => infer F; command: unknown }
    ? F
    : Bound<T[K]>;
};

function bindAll<T extends object>(tree: T, caller: MethodCaller): Bound<T> {
  return Object.fromEntries(
    Object.entries(tree).map(([key, node]) => [
      key,
      isMethodDefinition(node) ? node.bind(caller) : bindAll(node as object, caller),
    ]),
  ) as Bound<T>;
}

export class Bitrix24Client {
  readonly landing: Bound<typeof methods.landing>;
  readonly app: Bound<typeof methods.app>;
  readonly event: Bound<typeof methods.event>;
  readonly placement: Bound<typeof methods.placement>;
  readonly user: Bound<typeof methods.user>;

  constructor(readonly rest: RestClient) {
    const bound = bindAll(methods, rest);
    this.landing = bound.landing;
    this.app = bound.app;
    this.event = bound.event;
    this.placement = bound.placement;
    this.user = bound.user;
  }

  get memberId(): string {
    return this.rest.memberId;
  }

  call<T = unknown>(method: string, params?: Params, options?: CallOptions): Promise<T> {
    return this.rest.call<T>(method, params, options);
  }

  request(method: string, params?: Params, options?: CallOptions): Promise<RestAnswer> {
    return this.rest.request(method, params, options);
  }

  batch(commands: BatchCommands, options?: BatchOptions): Promise<BatchResult> {
    return this.rest.batch(commands, options);
  }

  list<T = unknown>(method: string, params?: Params, options?: ListOptions): AsyncGenerator<T> {
    return this.rest.list<T>(method, params, options);
  }
}
