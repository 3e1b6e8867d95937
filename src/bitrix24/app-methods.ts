// Definitions of the app-level methods: options, event subscriptions, the app's placements,
// app and user info.
import { z } from 'zod';
import { defineMethod, noParams } from './define-method.js';
import { b24Bool, b24Int, b24Map } from './schemas.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

// ---- app.option.* (admin only for set)

const optionValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const appOptionSet = defineMethod(
  'app.option.set',
  z.object({
    options: z
      .record(z.string().min(1), optionValue)
      .refine((o) => Object.keys(o).length > 0, 'options is empty'),
  }),
  z.boolean(),
);

/** All options (an object, `{}` when none) — or one option's value when `option` is given. */
export const appOptionGet = defineMethod(
  'app.option.get',
  z.object({ option: z.string().min(1).optional() }).optional(),
  z.union([b24Map(z.unknown()), z.string(), z.number(), z.boolean(), z.null()]),
);

// ---- event.*

export const eventBind = defineMethod(
  'event.bind',
  z.object({
    event: z.string().trim().min(1),
    handler: httpUrl,
    auth_type: z.number().int().nonnegative().optional(),
    event_type: z.enum(['online', 'offline']).optional(),
  }),
  z.boolean(),
);

export const eventUnbind = defineMethod(
  'event.unbind',
  z.object({
    event: z.string().trim().min(1),
    handler: httpUrl.optional(),
    auth_type: z.number().int().nonnegative().optional(),
    event_type: z.enum(['online', 'offline']).optional(),
  }),
  z.looseObject({ count: b24Int }),
);

const eventHandler = z.looseObject({
  event: z.string(),
  handler: z.string(),
  auth_type: b24Int.optional(),
  offline: b24Bool.optional(),
});

export const eventGet = defineMethod('event.get', noParams, z.array(eventHandler));

// ---- placement.get

/** One placement handler of this app (api-reference/widgets/placement-get.md; admin only). */
const placementHandler = z.looseObject({
  placement: z.string(),
  handler: z.string(),
  title: z.string().optional(),
});

export const placementGet = defineMethod('placement.get', noParams, z.array(placementHandler));

// ---- app.info, user.current

const appInfoResult = z.looseObject({
  ID: b24Int,
  CODE: z.string(),
  VERSION: z.union([z.number(), z.string()]),
  STATUS: z.string(),
  INSTALLED: b24Bool,
  PAYMENT_EXPIRED: z.enum(['Y', 'N']).optional(),
  DAYS: b24Int.nullable().optional(),
  LANGUAGE_ID: z.string().optional(),
  LICENSE: z.string().optional(),
});

export const appInfo = defineMethod('app.info', noParams, appInfoResult);

const currentUser = z.looseObject({
  ID: b24Int,
  NAME: z.string().nullable().optional(),
  LAST_NAME: z.string().nullable().optional(),
  EMAIL: z.string().nullable().optional(),
  ACTIVE: b24Bool.optional(),
});

export const userCurrent = defineMethod('user.current', noParams, currentUser);

// user.admin: whether the token's user administers the portal; Bitrix24 answers true or false
// (b24restdocs api-reference/common/users/user-admin.md). Only a real boolean counts: install and
// self-healing hinge on it.
export const userAdmin = defineMethod('user.admin', noParams, z.boolean());
