// Definitions of the Sites (landing) methods this app calls, shaped after the Bitrix24 docs:
// ids come back as strings, flags as "Y"/"N"; results are parsed to numbers here.
import { z } from 'zod';
import { defineMethod } from './define-method.js';
import { b24Bool, b24Flag, b24Int, b24Map, idParam } from './schemas.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const SYSPAGE_TYPES = [
  'mainpage',
  'catalog',
  'personal',
  'cart',
  'order',
  'payment',
  'compare',
  'feedback',
] as const;
export type SyspageType = (typeof SYSPAGE_TYPES)[number];

/**
 * The landing module's own `scope` (not the REST scope `landing`): without it, landing.*
 * methods see only ordinary sites and stores (PAGE, STORE, SMN); these values switch them to
 * knowledge bases, group knowledge bases, or the main page / vibe (api-reference/landing/types.md).
 */
export const SITE_SCOPES = ['KNOWLEDGE', 'GROUP', 'MAINPAGE'] as const;
export type SiteScope = (typeof SITE_SCOPES)[number];
const landingScope = z.enum(SITE_SCOPES);

// ---- landing.repo.* (placements in the Sites section)

export const repoBind = defineMethod(
  'landing.repo.bind',
  z.object({
    fields: z.object({
      /** LANDING_SETTINGS, LANDING_BLOCK_*, LANDING_BLOCK_<CODE>, ... */
      PLACEMENT: z
        .string()
        .trim()
        .min(1)
        .regex(/^LANDING_/i, 'must start with LANDING_'),
      PLACEMENT_HANDLER: httpUrl,
      TITLE: z.string().optional(),
      // Nothing else: b24restdocs api-reference/landing/embedding/landing-repo-bind.md lists
      // only PLACEMENT, PLACEMENT_HANDLER and TITLE.
    }),
  }),
  z.boolean(),
);

export const repoUnbind = defineMethod(
  'landing.repo.unbind',
  z.object({ code: z.string().trim().min(1), handler: httpUrl.optional() }),
  // null when not called in an application context.
  z.boolean().nullable(),
);

// ---- landing.syspage.* (special pages of a site)

const syspageType = z.enum(SYSPAGE_TYPES);

export const syspageSet = defineMethod(
  'landing.syspage.set',
  z.object({ id: idParam, type: syspageType, lid: idParam.optional(), scope: landingScope.optional() }),
  z.boolean(),
);

const syspageEntry = z.looseObject({
  TYPE: z.string(),
  LANDING_ID: b24Int,
  TITLE: z.string().optional(),
  DELETED: b24Flag.optional(),
  ACTIVE: b24Flag.optional(),
});

export const syspageGet = defineMethod(
  'landing.syspage.get',
  z.object({ id: idParam, active: z.boolean().optional(), scope: landingScope.optional() }),
  // Keyed by type; {} when none; null when the site is missing or unreadable.
  b24Map(syspageEntry).nullable(),
);

export const syspageGetSpecialPage = defineMethod(
  'landing.syspage.getSpecialPage',
  z.object({
    siteId: idParam,
    type: syspageType,
    additional: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    scope: landingScope.optional(),
  }),
  // URL; "" when no page is bound; null when the site is missing or unreadable.
  z.string().nullable(),
);

// ---- landing.site.*, landing.landing.*, landing.block.*

const listParams = z.object({
  select: z.array(z.string()).optional(),
  // Values unchecked: a batch command may filter by an earlier one's `$result[...]`.
  filter: z.record(z.string(), z.unknown()).optional(),
  order: z.record(z.string(), z.string()).optional(),
  group: z.array(z.string()).optional(),
  limit: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().optional(),
});

const site = z.looseObject({
  ID: b24Int,
  TYPE: z.string(),
  TITLE: z.string().optional(),
  CODE: z.string().optional(),
  ACTIVE: b24Flag.optional(),
  DELETED: b24Flag.optional(),
  DOMAIN_ID: b24Int.nullable().optional(),
  LANDING_ID_INDEX: b24Int.nullable().optional(),
  PUBLIC_URL: z.string().optional(),
});

export const siteGetList = defineMethod(
  'landing.site.getList',
  z.object({ params: listParams.optional(), scope: landingScope.optional() }),
  z.array(site),
);

export const siteMarkDelete = defineMethod(
  'landing.site.markDelete',
  z.object({ id: idParam, scope: landingScope.optional() }),
  b24Int,
);

export const siteMarkUnDelete = defineMethod(
  'landing.site.markUnDelete',
  z.object({ id: idParam, scope: landingScope.optional() }),
  b24Int,
);

const page = z.looseObject({
  ID: b24Int,
  SITE_ID: b24Int.optional(),
  TITLE: z.string().optional(),
  CODE: z.string().optional(),
  ACTIVE: b24Flag.optional(),
  DELETED: b24Flag.optional(),
});

export const landingGetList = defineMethod(
  'landing.landing.getList',
  z.object({
    params: listParams
      .extend({ get_preview: z.boolean().optional(), get_urls: z.boolean().optional() })
      .optional(),
    scope: landingScope.optional(),
  }),
  z.array(page),
);

const block = z.looseObject({
  id: b24Int,
  lid: b24Int,
  code: z.string(),
  name: z.string().optional(),
  active: b24Bool.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  content: z.string().optional(),
  css: z.array(z.string()).optional(),
  js: z.array(z.string()).optional(),
});

export const blockGetList = defineMethod(
  'landing.block.getList',
  z.object({
    lid: z.union([idParam, z.array(idParam).min(1)]),
    params: z
      .object({
        edit_mode: z.boolean().optional(),
        deleted: z.boolean().optional(),
        get_content: z.boolean().optional(),
      })
      .optional(),
    scope: landingScope.optional(),
  }),
  z.array(block),
);
