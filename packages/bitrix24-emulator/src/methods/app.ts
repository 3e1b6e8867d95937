import type { EmulatorContext } from '../context.js';
import { Errors, RestError } from '../errors.js';
import { isoSeconds } from '../format.js';
import { isPlainObject, param, toInt } from '../params.js';
import type { AppInstallation, PortalState, UserState } from '../types.js';
import { requireAdmin, requireApp } from './access.js';
import type { MethodContext, MethodTable } from './types.js';

const USER_SCOPES = ['user', 'user_basic', 'user_brief'];

function userRow(mc: MethodContext, u: UserState): Record<string, unknown> {
  const registered = isoSeconds(mc.ctx.clock.now() - 30 * 24 * 3600 * 1000);
  return {
    ID: String(u.id),
    XML_ID: '',
    ACTIVE: true,
    NAME: u.name,
    LAST_NAME: u.lastName,
    SECOND_NAME: '',
    EMAIL: u.email,
    LAST_LOGIN: isoSeconds(mc.ctx.clock.now()),
    DATE_REGISTER: registered,
    IS_ONLINE: 'Y',
    TIME_ZONE_OFFSET: '0',
    PERSONAL_GENDER: '',
    PERSONAL_BIRTHDAY: '',
    UF_EMPLOYMENT_DATE: '',
    UF_DEPARTMENT: [1],
    USER_TYPE: 'employee',
  };
}

/** Records a REST placement.call; refreshBlock also counts as a block refresh, like the JS command. */
function placementCall(mc: MethodContext): boolean {
  const command = String(param(mc.params, 'PLACEMENT') ?? param(mc.params, 'type') ?? '');
  const params = param(mc.params, 'PARAMS') ?? param(mc.params, 'params') ?? {};
  const at = mc.ctx.clock.now();
  mc.portal.placementCalls.push({ at, clientId: mc.auth.clientId ?? 'webhook', command, params });
  const blockId = isPlainObject(params) ? toInt(params.id) : undefined;
  const block = blockId === undefined ? undefined : mc.portal.blocks.get(blockId);
  if (command === 'refreshBlock' && block) {
    block.refreshCount++;
    mc.portal.refreshedBlocks.push({ at, blockId: block.id, source: 'rest' });
  }
  return true;
}

/**
 * app.info's fields for one app on one portal (api-reference/common/system/app-info.md); the
 * portal's REST method and the OAuth server's `app.info` (oauth-app-info.ts) both answer them.
 */
export function appInfoFields(ctx: EmulatorContext, portal: PortalState, inst: AppInstallation) {
  const reg = ctx.state.app(inst.clientId);
  const license = portal.license;
  return {
    ID: [...ctx.state.apps.keys()].indexOf(inst.clientId) + 1,
    CODE: reg.clientId,
    VERSION: reg.version,
    STATUS: reg.status,
    INSTALLED: inst.installFinished,
    PAYMENT_EXPIRED: 'N',
    DAYS: null,
    LANGUAGE_ID: portal.lang,
    LICENSE: license,
    LICENSE_TYPE: license.replace(/^[a-z]+_/, ''),
    LICENSE_FAMILY: license.replace(/^[a-z]+_/, '').replace(/\d+$/, ''),
  };
}

export const appMethods: MethodTable = {
  /**
   * api-reference/common/settings/app-option-set.md (current): app context (403 ACCESS_DENIED
   * "Application context required"), administrator only (403 ACCESS_DENIED "Administrator
   * authorization required"); older versions named the code AccessException. Empty options:
   * 400 ArgumentNullException "options is empty" as seed 004 says (the current page: ERROR_ARGUMENT).
   */
  'app.option.set': {
    scope: null,
    handler: ({ auth, params }) => {
      const inst = requireApp(auth, () => Errors.appContextRequired(403));
      requireAdmin(auth);
      const options = param(params, 'options');
      if (!isPlainObject(options) || Object.keys(options).length === 0) {
        throw new RestError(400, 'ArgumentNullException', 'options is empty');
      }
      Object.assign(inst.options, options);
      return true;
    },
  },
  /** api-reference/common/settings/app-option-get.md */
  'app.option.get': {
    scope: null,
    handler: ({ auth, params }) => {
      const inst = requireApp(auth, () => Errors.appContextRequired(403));
      const option = param(params, 'option');
      if (option === undefined || option === '') {
        return Object.keys(inst.options).length ? inst.options : [];
      }
      return inst.options[String(option)] ?? null;
    },
  },
  /** api-reference/common/system/app-info.md; INSTALLED = installFinish seen (settings/app-installation/installation-finish.md). */
  'app.info': {
    scope: null,
    handler: ({ auth, ctx, portal }) => {
      const inst = requireApp(auth, () => Errors.appContextRequired(400));
      return appInfoFields(ctx, portal, inst);
    },
  },
  /** api-reference/user/user-current.md, api-reference/user/user-get.md (scope user / user_basic / user_brief). */
  'user.current': { scope: USER_SCOPES, handler: (mc) => userRow(mc, mc.auth.user) },
  'user.get': {
    scope: USER_SCOPES,
    list: true,
    handler: (mc) => {
      const filter = param(mc.params, 'FILTER') ?? param(mc.params, 'filter');
      const id = isPlainObject(filter) ? toInt(filter.ID) : toInt(param(mc.params, 'ID'));
      return [...mc.portal.users.values()]
        .filter((u) => id === undefined || u.id === id)
        .map((u) => userRow(mc, u));
    },
  },
  /** api-reference/common/users/user-admin.md: true/false for the token's user, no errors of its own. */
  'user.admin': { scope: null, handler: ({ auth }) => auth.user.admin },
  /** api-reference/common/users/profile.md */
  profile: {
    scope: null,
    handler: ({ auth }) => ({
      ID: String(auth.user.id),
      ADMIN: auth.user.admin,
      NAME: auth.user.name,
      LAST_NAME: auth.user.lastName,
      PERSONAL_GENDER: '',
      TIME_ZONE: '',
    }),
  },
  /** api-reference/common/system/server-time.md, api-reference/common/system/scope.md */
  'server.time': { scope: null, handler: ({ ctx }) => isoSeconds(ctx.clock.now()) },
  scope: {
    scope: null,
    handler: ({ auth }) => (auth.scopes === 'all' ? ['landing', 'placement', 'user'] : [...auth.scopes]),
  },
  /** api-reference/widgets/ui-interaction/bx24-placement-call.md; refreshBlock: api-reference/landing/embedding/block.md (seed 002). */
  'placement.call': { scope: null, handler: placementCall },
};
