import { portalBase } from '../context.js';
import { RestError } from '../errors.js';
import { bxDate, idStr, yn } from '../format.js';
import { falsy, intParam, isPlainObject, param } from '../params.js';
import type { PortalState, SiteState } from '../types.js';
import { requireLandingWrite } from './access.js';
import { scopeTypes, siteInScope } from './landing-scope.js';
import { listQuery, withDefaultDeleted } from './list-query.js';
import type { MethodContext, MethodTable } from './types.js';

const BASE_FIELDS = [
  'ID',
  'CODE',
  'ACTIVE',
  'DELETED',
  'TITLE',
  'XML_ID',
  'DESCRIPTION',
  'TYPE',
  'DOMAIN_ID',
  'LANDING_ID_INDEX',
  'LANDING_ID_404',
  'CREATED_BY_ID',
  'MODIFIED_BY_ID',
  'DATE_CREATE',
  'DATE_MODIFY',
] as const;
const ALL_FIELDS = [...BASE_FIELDS, 'DOMAIN_NAME', 'PUBLIC_URL'];

export const sitePublicUrl = (mc: Pick<MethodContext, 'ctx' | 'portal'>, s: SiteState): string =>
  `${portalBase(mc.ctx, mc.portal)}/pub/site/${s.code}/`;

function siteRow(mc: MethodContext, s: SiteState): Record<string, unknown> {
  const index = mc.portal.syspages.find((b) => b.siteId === s.id && b.type === 'mainpage');
  return {
    ID: String(s.id),
    CODE: s.code,
    ACTIVE: yn(s.active),
    DELETED: yn(s.deleted),
    TITLE: s.title,
    XML_ID: s.xmlId,
    DESCRIPTION: s.description,
    TYPE: s.type,
    DOMAIN_ID: String(s.domainId),
    LANDING_ID_INDEX: idStr(index?.landingId),
    LANDING_ID_404: null,
    CREATED_BY_ID: String(s.createdBy),
    MODIFIED_BY_ID: String(s.modifiedBy),
    DATE_CREATE: bxDate(s.createdAt),
    DATE_MODIFY: bxDate(s.modifiedAt),
    DOMAIN_NAME: `${mc.ctx.host}:${mc.portal.port}`,
    PUBLIC_URL: sitePublicUrl(mc, s),
  };
}

/** ACCESS_DENIED for a site the caller may not change, or one that does not exist. */
function siteForWrite(mc: MethodContext, id: number): SiteState {
  requireLandingWrite(mc.auth);
  // A site outside the call's `scope` is as missing (landing-scope.ts).
  const site = siteInScope(mc.portal, mc.params, id);
  if (!site) throw new RestError(400, 'ACCESS_DENIED', 'Access to delete the site is denied.');
  return site;
}

function uniqueCode(portal: PortalState, wanted: string): string {
  const taken = new Set([...portal.sites.values()].map((s) => s.code));
  if (!taken.has(wanted)) return wanted;
  let i = 2;
  while (taken.has(`${wanted}${i}`)) i++;
  return `${wanted}${i}`;
}

const slug = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'site';

export const landingSiteMethods: MethodTable = {
  /** api-reference/landing/site/landing-site-add.md */
  'landing.site.add': {
    scope: 'landing',
    handler: (mc) => {
      const fields = param(mc.params, 'fields');
      if (fields === undefined || fields === '')
        throw new RestError(400, 'MISSING_PARAMS', 'Insufficient call parameters, missing: fields');
      if (!isPlainObject(fields))
        throw new RestError(400, 'TYPE_ERROR', 'Invalid call argument type: fields');
      requireLandingWrite(mc.auth);
      const title = String(fields.TITLE ?? '');
      let code = String(fields.CODE ?? '').trim();
      if (code.includes('/'))
        throw new RestError(400, 'SLASH_IS_NOT_ALLOWED', 'Slash is not allowed in the site address.');
      if (!code) code = slug(title);
      if (/^\d+$/.test(code)) code = `site${code}`;
      const now = mc.ctx.clock.now();
      const id = mc.portal.nextId++;
      mc.portal.sites.set(id, {
        id,
        code: uniqueCode(mc.portal, code),
        title,
        type: String(fields.TYPE ?? 'PAGE').toUpperCase(),
        active: true,
        deleted: false,
        description: String(fields.DESCRIPTION ?? ''),
        xmlId: String(fields.XML_ID ?? ''),
        domainId: id,
        createdBy: mc.auth.user.id,
        modifiedBy: mc.auth.user.id,
        createdAt: now,
        modifiedAt: now,
      });
      return id;
    },
  },
  /** api-reference/landing/site/landing-site-get-list.md (ID and TYPE always selected, DELETED=N unless filtered). */
  'landing.site.getList': {
    scope: 'landing',
    handler: (mc) => {
      const raw = param(mc.params, 'params');
      const p = isPlainObject(raw) ? raw : {};
      // Only the sites of the call's `scope` (types.md; landing-scope.ts).
      const types = scopeTypes(mc.params);
      const rows = [...mc.portal.sites.values()]
        .filter((s) => types.includes(s.type))
        .map((s) => siteRow(mc, s));
      return listQuery(
        rows,
        { ...p, filter: withDefaultDeleted(p.filter) },
        {
          fields: ALL_FIELDS,
          base: BASE_FIELDS,
          always: ['ID', 'TYPE'],
        },
      );
    },
  },
  /**
   * api-reference/landing/site/landing-site-mark-delete.md: `mark` (default true); `mark=false`
   * restores the site like markUnDelete. ACCESS_DENIED_DELETED with a domain provider (seed 003).
   */
  'landing.site.markDelete': {
    scope: 'landing',
    handler: (mc) => {
      const id = intParam(mc.params, 'id', { required: true });
      const site = siteForWrite(mc, id);
      const markRaw = param(mc.params, 'mark');
      if (markRaw !== undefined && falsy(markRaw)) {
        site.deleted = false;
        site.modifiedAt = mc.ctx.clock.now();
        return site.id;
      }
      if (mc.portal.domainProvider) {
        throw new RestError(
          400,
          'ACCESS_DENIED_DELETED',
          'Deleting the site is not available when a domain provider is connected.',
        );
      }
      site.deleted = true;
      site.modifiedAt = mc.ctx.clock.now();
      return site.id;
    },
  },
  /**
   * api-reference/landing/site/landing-site-delete.md: removes only an empty site; a page,
   * also one in the trash, answers SITE_IS_NOT_EMPTY.
   */
  'landing.site.delete': {
    scope: 'landing',
    handler: (mc) => {
      const id = intParam(mc.params, 'id', { required: true })!;
      const site = siteForWrite(mc, id);
      if ([...mc.portal.pages.values()].some((p) => p.siteId === site.id)) {
        throw new RestError(400, 'SITE_IS_NOT_EMPTY', 'The site contains pages.');
      }
      mc.portal.sites.delete(site.id);
      mc.portal.syspages = mc.portal.syspages.filter((s) => s.siteId !== site.id);
      return true;
    },
  },
  /** api-reference/landing/site/landing-site-mark-undelete.md */
  'landing.site.markUnDelete': {
    scope: 'landing',
    handler: (mc) => {
      const id = intParam(mc.params, 'id', { required: true });
      const site = siteForWrite(mc, id);
      site.deleted = false;
      site.modifiedAt = mc.ctx.clock.now();
      return site.id;
    },
  },
};
