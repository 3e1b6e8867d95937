// Every REST method the app calls, at the place its Bitrix24 name says: methods.landing.repo.bind
// is the one definition of landing.repo.bind, bound on the client for a single call
// (client.landing.repo.bind(...)) and used as is for a batch command
// (methods.landing.repo.bind.command(...)). Callers never spell a method name themselves
// (test/bitrix24/method-names.test.ts).
import * as app from './app-methods.js';
import * as landing from './landing-methods.js';

export const methods = {
  landing: {
    repo: { bind: landing.repoBind, unbind: landing.repoUnbind },
    syspage: {
      set: landing.syspageSet,
      get: landing.syspageGet,
      getSpecialPage: landing.syspageGetSpecialPage,
    },
    site: {
      getList: landing.siteGetList,
      markDelete: landing.siteMarkDelete,
      markUnDelete: landing.siteMarkUnDelete,
    },
    landing: { getList: landing.landingGetList },
    block: { getList: landing.blockGetList },
  },
  app: { option: { set: app.appOptionSet, get: app.appOptionGet }, info: app.appInfo },
  event: { bind: app.eventBind, unbind: app.eventUnbind, get: app.eventGet },
  placement: { get: app.placementGet },
  user: { current: app.userCurrent, admin: app.userAdmin },
} as const;
