import { intParam, isPlainObject, param, required, truthy } from '../params.js';
import { requireLandingWrite } from './access.js';
import { pageUrl } from './landing-page.js';
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

export const syspageMethods: MethodTable = {
  /** Seed 000: type is trimmed; an unknown type, or a missing site, ends the method without changes. */
  'landing.syspage.set': {
    scope: 'landing',
    handler: ({ params, portal, auth }) => {
      const siteId = intParam(params, 'id', { required: true });
      const type = String(required(params, 'type')).trim();
      const lid = intParam(params, 'lid');
      requireLandingWrite(auth);
      if (!SYSPAGE_TYPES.includes(type) || !portal.sites.has(siteId)) return true;
      portal.syspages = portal.syspages.filter((b) => !(b.siteId === siteId && b.type === type));
      if (lid !== undefined) portal.syspages.push({ siteId, type, landingId: lid });
      return true;
    },
  },
  'landing.syspage.get': {
    scope: 'landing',
    handler: ({ params, portal }) => {
      const siteId = intParam(params, 'id', { required: true });
      const site = portal.sites.get(siteId);
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
      if (!mc.portal.sites.has(siteId)) return null;
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
