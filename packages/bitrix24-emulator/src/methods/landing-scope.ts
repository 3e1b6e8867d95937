// The landing module's internal `scope` parameter (api-reference/landing/types.md, "How Scope
// Works"): without it, landing.* methods see only PAGE, STORE and SMN sites; with scope
// KNOWLEDGE, GROUP or MAINPAGE they see only sites of that one type. The docs say this of the
// landing methods in general (api-reference/landing/index.md, "Types of Websites and Scope"),
// so every landing.* method here applies it. A site outside the call's scope is answered as
// each method's page answers a site that is missing or unreadable.
import { type Params, param } from '../params.js';
import type { PageState, PortalState, SiteState } from '../types.js';

const STANDARD_TYPES: readonly string[] = ['PAGE', 'STORE', 'SMN'];
const SPECIAL_SCOPES: readonly string[] = ['KNOWLEDGE', 'GROUP', 'MAINPAGE'];

/** The site types a call may see. An unknown `scope` value counts as none (assumed: no source). */
export function scopeTypes(params: Params): readonly string[] {
  const raw = param(params, 'scope');
  const scope = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
  return SPECIAL_SCOPES.includes(scope) ? [scope] : STANDARD_TYPES;
}

/** The site, if it exists and the call's scope sees it. */
export function siteInScope(portal: PortalState, params: Params, id: number): SiteState | undefined {
  const site = portal.sites.get(id);
  return site && scopeTypes(params).includes(site.type) ? site : undefined;
}

/** Whether the call's scope sees the page's site. */
export function pageInScope(portal: PortalState, params: Params, page: PageState): boolean {
  return siteInScope(portal, params, page.siteId) !== undefined;
}
