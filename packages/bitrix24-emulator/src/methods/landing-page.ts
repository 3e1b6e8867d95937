import { portalBase } from '../context.js';
import { Errors, RestError } from '../errors.js';
import { bxDate, yn } from '../format.js';
import { isPlainObject, param, toInt, truthy } from '../params.js';
import type { BlockState, PageState } from '../types.js';
import { requireLandingWrite } from './access.js';
import { pageInScope } from './landing-scope.js';
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
  'SITE_ID',
  'FOLDER_ID',
  'SITEMAP',
  'CREATED_BY_ID',
  'MODIFIED_BY_ID',
  'DATE_CREATE',
  'DATE_MODIFY',
] as const;
const FIELDS = [...BASE_FIELDS, 'DOMAIN_ID'];

export function pageUrl(mc: Pick<MethodContext, 'ctx' | 'portal'>, page: PageState): string {
  const site = mc.portal.sites.get(page.siteId);
  return `${portalBase(mc.ctx, mc.portal)}/pub/site/${site?.code ?? page.siteId}/${page.code}/`;
}

function pageRow(mc: MethodContext, p: PageState): Record<string, unknown> {
  const site = mc.portal.sites.get(p.siteId);
  return {
    ID: String(p.id),
    CODE: p.code,
    ACTIVE: yn(p.active),
    DELETED: yn(p.deleted),
    TITLE: p.title,
    XML_ID: p.xmlId,
    DESCRIPTION: p.description,
    SITE_ID: String(p.siteId),
    FOLDER_ID: null,
    SITEMAP: 'N',
    CREATED_BY_ID: String(p.createdBy),
    MODIFIED_BY_ID: String(p.modifiedBy),
    DATE_CREATE: bxDate(p.createdAt),
    DATE_MODIFY: bxDate(p.modifiedAt),
    DOMAIN_ID: site ? String(site.domainId) : null,
  };
}

function blockRow(mc: MethodContext, b: BlockState, withContent: boolean): Record<string, unknown> {
  const page = mc.portal.pages.get(b.pageId);
  const site = page ? mc.portal.sites.get(page.siteId) : undefined;
  const row: Record<string, unknown> = {
    id: b.id,
    lid: b.pageId,
    code: b.code,
    name: b.name,
    active: b.active,
    meta: {
      LID: String(b.pageId),
      FAVORITE_META: 'Array',
      CREATED_BY_ID: '1',
      DATE_CREATE: bxDate(b.createdAt),
      MODIFIED_BY_ID: '1',
      DATE_MODIFY: bxDate(b.modifiedAt),
      SITE_TYPE: site?.type ?? 'PAGE',
      LANDING_TITLE: page?.title ?? '',
      LANDING_TPL_CODE: '',
      SITE_TPL_CODE: '',
      XML_ID: '',
      DESIGNER_MODE: '',
    },
  };
  if (withContent) {
    row.content = `<div id="b${b.id}" class="block-wrapper block-${b.code.replace(/\./g, '-')}">${b.content}</div>`;
    row.css = [];
    row.js = [];
  }
  return row;
}

export const landingPageMethods: MethodTable = {
  /** api-reference/landing/page/methods/landing-landing-get-list.md (DELETED=N unless filtered). */
  'landing.landing.getList': {
    scope: 'landing',
    handler: (mc) => {
      const raw = param(mc.params, 'params');
      const p = isPlainObject(raw) ? raw : {};
      // Only pages of sites in the call's `scope` (types.md; landing-scope.ts).
      const pages = [...mc.portal.pages.values()].filter((pg) => pageInScope(mc.portal, mc.params, pg));
      const rows = listQuery(
        pages.map((pg) => pageRow(mc, pg)),
        { ...p, filter: withDefaultDeleted(p.filter) },
        { fields: FIELDS, base: FIELDS, always: ['DOMAIN_ID'] },
      );
      if (truthy(p.get_urls)) {
        for (const r of rows) {
          const page = mc.portal.pages.get(Number(r.ID));
          r.PUBLIC_URL = page ? pageUrl(mc, page) : null;
        }
      }
      return rows;
    },
  },
  /** api-reference/landing/page/methods/landing-landing-add.md */
  'landing.landing.add': {
    scope: 'landing',
    handler: (mc) => {
      const fields = param(mc.params, 'fields');
      if (fields === undefined || fields === '') throw Errors.missing('fields');
      if (!isPlainObject(fields)) throw Errors.typeError('fields');
      requireLandingWrite(mc.auth);
      const siteId = toInt(fields.SITE_ID);
      const site = siteId === undefined ? undefined : mc.portal.sites.get(siteId);
      if (!site) throw new RestError(400, 'SITE_NOT_FOUND', 'Site not found.');
      const folder = fields.FOLDER !== undefined;
      let code = typeof fields.CODE === 'string' ? fields.CODE : undefined;
      if (code === '' && !folder)
        throw new RestError(400, 'CANT_BE_EMPTY', 'The page address cannot be empty.');
      if (code?.includes('/'))
        throw new RestError(400, 'SLASH_IS_NOT_ALLOWED', 'Slash is not allowed in the landing address.');
      if (code && /^.+_\d+_\d+$/.test(code))
        throw new RestError(400, 'WRONG_CODE_FORMAT', 'Invalid page address.');
      const title = String(fields.TITLE ?? '');
      if (!code?.trim())
        code =
          title
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-|-$/g, '') || 'page';
      const now = mc.ctx.clock.now();
      const id = mc.portal.nextId++;
      mc.portal.pages.set(id, {
        id,
        siteId: site.id,
        code,
        title,
        active: false,
        deleted: false,
        folder: truthy(fields.FOLDER),
        description: String(fields.DESCRIPTION ?? ''),
        xmlId: String(fields.XML_ID ?? ''),
        createdBy: mc.auth.user.id,
        modifiedBy: mc.auth.user.id,
        createdAt: now,
        modifiedAt: now,
      });
      return id;
    },
  },
  /**
   * api-reference/landing/page/methods/landing-landing-delete.md: removes the page with its
   * blocks (and its special-page bindings); `lid` required; unknown → LANDING_NOT_EXIST.
   */
  'landing.landing.delete': {
    scope: 'landing',
    handler: (mc) => {
      const raw = param(mc.params, 'lid');
      if (raw === undefined || raw === '' || raw === null) throw Errors.missing('lid');
      const lid = toInt(raw);
      if (lid === undefined) throw Errors.typeError('lid');
      requireLandingWrite(mc.auth);
      const page = mc.portal.pages.get(lid);
      if (!page) throw new RestError(400, 'LANDING_NOT_EXIST', 'Landing not found');
      mc.portal.pages.delete(lid);
      for (const b of [...mc.portal.blocks.values()]) if (b.pageId === lid) mc.portal.blocks.delete(b.id);
      mc.portal.syspages = mc.portal.syspages.filter((s) => s.landingId !== lid);
      return true;
    },
  },
  /** api-reference/landing/block/methods/landing-block-get-list.md */
  'landing.block.getList': {
    scope: 'landing',
    handler: (mc) => {
      const lidRaw = param(mc.params, 'lid');
      if (lidRaw === undefined || lidRaw === '' || lidRaw === null) throw Errors.missing('lid');
      const lids = (Array.isArray(lidRaw) ? lidRaw : [lidRaw]).map((v) => toInt(v));
      const rawParams = param(mc.params, 'params');
      const p = isPlainObject(rawParams) ? rawParams : {};
      const out: Record<string, unknown>[] = [];
      for (const lid of lids) {
        const page = lid === undefined ? undefined : mc.portal.pages.get(lid);
        // A page outside the call's `scope` is "unavailable" (landing-block-get-list.md; landing-scope.ts).
        if (!page || page.deleted || !pageInScope(mc.portal, mc.params, page))
          throw new RestError(400, 'LANDING_NOT_EXIST', 'Landing not found');
        const blocks = [...mc.portal.blocks.values()]
          .filter((b) => b.pageId === page.id && b.deleted === truthy(p.deleted))
          .sort((a, b) => a.sort - b.sort);
        for (const b of blocks) out.push(blockRow(mc, b, truthy(p.get_content)));
      }
      return out;
    },
  },
};
