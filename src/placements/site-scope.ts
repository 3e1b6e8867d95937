// Which kind of site a widget was opened on. Bitrix24 does not say (PLACEMENT_OPTIONS carries
// only ids), and landing.* methods see knowledge bases, group knowledge bases and the main page
// only when given their `scope` (api-reference/landing/types.md). So the widgets ask for the
// site (or page) without a scope, as before, and in the same batch once per special scope;
// the scope that finds it is passed on every later landing.* call for that site.
import { SITE_SCOPES, type SiteScope, SYSPAGE_TYPES, type SyspageType } from '../bitrix24/landing-methods.js';

export { SITE_SCOPES, type SiteScope };

/**
 * Special pages that serve a shop. Knowledge bases, group knowledge bases and the main page
 * have no shop ("catalog settings" are unavailable there: types.md, "What Changes in Special
 * Scopes"), so only the home and feedback pages are offered on them.
 */
export const SHOP_SYSPAGE_TYPES: readonly SyspageType[] = [
  'catalog',
  'personal',
  'cart',
  'order',
  'payment',
  'compare',
];

/** The special-page types a site of this scope can use: all of them on ordinary sites and stores. */
export function syspageTypesFor(scope: SiteScope | null): readonly SyspageType[] {
  return scope === null ? SYSPAGE_TYPES : SYSPAGE_TYPES.filter((t) => !SHOP_SYSPAGE_TYPES.includes(t));
}

/** The `scope` parameter of a landing.* call: none for ordinary sites ("do not pass", types.md). */
export const scopeParam = (scope: SiteScope | null): { scope?: SiteScope } => (scope ? { scope } : {});

/** The same command once per special scope, keyed `<prefix>_<SCOPE>`. */
export function perScope(
  prefix: string,
  command: (scope: SiteScope) => { method: string; params: Record<string, unknown> },
): Record<string, { method: string; params: Record<string, unknown> }> {
  return Object.fromEntries(SITE_SCOPES.map((scope) => [`${prefix}_${scope}`, command(scope)]));
}

/** The first special scope whose `<prefix>_<SCOPE>` answer satisfies `found`, or null. */
export function scopeThatFound(
  result: Record<string, unknown>,
  prefix: string,
  found: (answer: unknown) => unknown,
): SiteScope | null {
  return SITE_SCOPES.find((scope) => Boolean(found(result[`${prefix}_${scope}`]))) ?? null;
}
