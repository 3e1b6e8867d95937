// The client callers use: raw call/batch/list plus typed wrappers named after the REST
// methods (client.landing.repo.bind(...), client.app.option.get(...), ...).
import * as app from './app-methods.js';
import type { BatchCommands } from './batch-plan.js';
import * as landing from './landing-methods.js';
import type {
  BatchOptions,
  BatchResult,
  CallOptions,
  ListOptions,
  Params,
  RestClient,
} from './rest-client.js';
import type { RestAnswer } from './rest-transport.js';

function methods(rest: RestClient) {
  return {
    landing: {
      repo: { bind: landing.repoBind.bind(rest), unbind: landing.repoUnbind.bind(rest) },
      syspage: {
        set: landing.syspageSet.bind(rest),
        get: landing.syspageGet.bind(rest),
        getSpecialPage: landing.syspageGetSpecialPage.bind(rest),
        deleteForSite: landing.syspageDeleteForSite.bind(rest),
        deleteForLanding: landing.syspageDeleteForLanding.bind(rest),
      },
      site: {
        getList: landing.siteGetList.bind(rest),
        markDelete: landing.siteMarkDelete.bind(rest),
        markUnDelete: landing.siteMarkUnDelete.bind(rest),
      },
      landing: { getList: landing.landingGetList.bind(rest) },
      block: { getList: landing.blockGetList.bind(rest) },
    },
    app: {
      option: { set: app.appOptionSet.bind(rest), get: app.appOptionGet.bind(rest) },
      info: app.appInfo.bind(rest),
    },
    event: {
      bind: app.eventBind.bind(rest),
      unbind: app.eventUnbind.bind(rest),
      get: app.eventGet.bind(rest),
    },
    user: { current: app.userCurrent.bind(rest), admin: app.userAdmin.bind(rest) },
  };
}

export class Bitrix24Client {
  readonly landing: ReturnType<typeof methods>['landing'];
  readonly app: ReturnType<typeof methods>['app'];
  readonly event: ReturnType<typeof methods>['event'];
  readonly user: ReturnType<typeof methods>['user'];

  constructor(readonly rest: RestClient) {
    const m = methods(rest);
    this.landing = m.landing;
    this.app = m.app;
    this.event = m.event;
    this.user = m.user;
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
