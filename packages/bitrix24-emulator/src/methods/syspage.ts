import { intParam, isPlainObject, param, required, truthy } from '../params.js';
import { requireLandingWrite } from './access.js';
import { pageUrl } from './landing-page.js';
import { siteInScope } from './landing-scope.js';
import type { MethodTable } from './types.js';

export const SYSPAGE_TYPES = [
  'mainpage',
  'catalog',
  'personal',
  'cart',
  'order',
  'payment',
  'compare',
  'feedback',
];

// Other syspage methods: api-reference/landing/page/special-pages/*.md (get, getSpecialPage,
// deleteForSite, deleteForLanding).
export const syspageMethods: MethodTable = {
  /**
   * api-reference/landing/page/special-pages/landing-syspage-set.md (and seed 000): type is
   * trimmed; an unknown type, a missing site, or a `lid` page that does not exist (or is
   * deleted) ends the method with `true` and no change. `lid` of 0, null or "" is kept as 0.
   */
  'landing.syspage.set': {
    scope: 'landing',
    handler: ({ params, portal, auth }) => {
      const siteId = intParam(params, 'id', { required: true });
      const type = String(required(params, 'type')).trim();
      const rawLid = param(params, 'lid');
      const lid = rawLid === undefined ? undefined : (intParam(params, 'lid') ?? 0);
      requireLandingWrite(auth);
      // A site outside the call's `scope` is "unavailable": true, no change (landing-scope.ts).
      if (!SYSPAGE_TYPES.includes(type) || !siteInScope(portal, params, siteId)) return true;
      if (lid !== undefined && lid !== 0) {
        const page = portal.pages.get(lid);
        if (!page || page.deleted) return true;
      }
      portal.syspages = portal.syspages.filter((b) => !(b.siteId === siteId && b.type === type));
      if (lid !== undefined) portal.syspages.push({ siteId, type, landingId: lid });
      return true;
    },
  },
  'landing.syspage.get': {
    scope: 'landing',
    handler: ({ params, portal }) => {
      const siteId = intParam(params, 'id', { required: true });
      // Missing, unreadable or outside the call's `scope`: null (landing-scope.ts).
      const site = siteInScope(portal, params, siteId);
      if (!site) return null;
      const activeOnly = truthy(param(params, 'active'));
      const out: Record<string, unknown> = {};
      for (const b of portal.syspages.filter((x) => x.siteId === siteId)) {
        const page = portal.pages.get(b.landingId);
        if (activeOnly && (!page || page.deleted || !page.active)) continue;
        out[b.type] = {
          TYPE: b.type,
          LANDING_ID: String(b.landingId),
          TITLE: page?.title ?? '',
          DELETED: page?.deleted ? 'Y' : 'N',
          ACTIVE: page?.active ? 'Y' : 'N',
        };
      }
      return out;
    },
  },
  /** Exact type match (no trimming); non-string type → "", as the docs say. */
  'landing.syspage.getSpecialPage': {
    scope: 'landing',
    handler: (mc) => {
      const siteId = intParam(mc.params, 'siteId', { required: true });
      const type = required(mc.params, 'type');
      if (!siteInScope(mc.portal, mc.params, siteId)) return null;
      if (typeof type !== 'string') return '';
      const binding = mc.portal.syspages.find((b) => b.siteId === siteId && b.type === type);
      const page = binding ? mc.portal.pages.get(binding.landingId) : undefined;
      if (!page) return '';
      const url = new URL(pageUrl(mc, page));
      const additional = param(mc.params, 'additional');
      if (isPlainObject(additional)) {
        for (const [k, v] of Object.entries(additional)) url.searchParams.set(k, String(v));
      }
      return url.toString();
    },
  },
  'landing.syspage.deleteForSite': {
    scope: 'landing',
    handler: ({ params, portal, auth }) => {
      const siteId = intParam(params, 'id', { required: true });
      requireLandingWrite(auth);
      portal.syspages = portal.syspages.filter((b) => b.siteId !== siteId);
      return true;
    },
  },
  'landing.syspage.deleteForLanding': {
    scope: 'landing',
    handler: ({ params, portal, auth }) => {
      const landingId = intParam(params, 'id', { required: true });
      requireLandingWrite(auth);
      portal.syspages = portal.syspages.filter((b) => b.landingId !== landingId);
      return true;
    },
  },
};
