// LANDING_SETTINGS: the site-settings widget (its module at the end) and its page's loader and
// actions, as plain functions over a Bitrix24 client. One batch request loads everything the
// page shows of an ordinary site; a knowledge base, group knowledge base or main page takes a
// second one in its own scope.
import { z } from 'zod';
import type { Bitrix24Client } from '../bitrix24/client.js';
import { isBitrix24Error } from '../bitrix24/errors.js';
import { SYSPAGE_TYPES, type SyspageType } from '../bitrix24/landing-methods.js';
import { methods } from '../bitrix24/methods.js';
import type { Translate } from '../i18n.js';
import type { OptionStore } from '../installations/types.js';
import { isPortalAdmin } from './app-page.js';
import { explainFailure, type Flash } from './messages.js';
import { numericId, type PlacementModule, placementCode } from './module.js';
import { perScope, type SiteScope, scopeParam, scopeThatFound, syspageTypesFor } from './site-scope.js';

export const OFFERED_TYPES_OPTION = 'offered_syspage_types';

export interface SettingsView {
  siteId: number;
  /** The landing `scope` the site answers in; null for ordinary sites and stores. */
  scope: SiteScope | null;
  site: { id: number; title: string; code: string; deleted: boolean } | null;
  pages: { id: number; title: string }[];
  /** Every offered type this kind of site can use, with its current page and public URL. */
  special: { type: SyspageType; landingId: number | null; url: string | null }[];
  offeredTypes: SyspageType[];
  allTypes: readonly SyspageType[];
}

export function parseOfferedTypes(value: unknown): SyspageType[] {
  if (typeof value !== 'string' || value.trim() === '') return [...SYSPAGE_TYPES];
  const chosen = value.split(',').map((s) => s.trim());
  return SYSPAGE_TYPES.filter((type) => chosen.includes(type));
}

type Commands = Record<string, { method: string; params: Record<string, unknown> }>;

const siteCommand = (siteId: number, scope: SiteScope | null) =>
  methods.landing.site.getList.command({
    ...scopeParam(scope),
    params: { select: ['ID', 'TITLE', 'CODE', 'DELETED'], filter: { ID: siteId, DELETED: ['Y', 'N'] } },
  });

/** What the page shows of one site, read in the site's scope. */
function siteCommands(siteId: number, scope: SiteScope | null): Commands {
  const commands: Commands = {
    site: siteCommand(siteId, scope),
    pages: methods.landing.landing.getList.command({
      ...scopeParam(scope),
      params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { SITE_ID: siteId }, order: { ID: 'asc' } },
    }),
    syspages: methods.landing.syspage.get.command({ id: siteId, ...scopeParam(scope) }),
  };
  for (const type of syspageTypesFor(scope)) {
    commands[`url_${type}`] = methods.landing.syspage.getSpecialPage.command({
      siteId,
      type,
      ...scopeParam(scope),
    });
  }
  return commands;
}

const firstSite = (answer: unknown) => methods.landing.site.getList.read(answer)?.[0];

export async function loadSettings(
  client: Bitrix24Client,
  siteId: number,
  store: Pick<OptionStore, 'setOptions'>,
  installationId: number,
): Promise<SettingsView> {
  // An ordinary site is read in this one batch, as always; the probes only say whether the
  // site is a knowledge base, group knowledge base or main page instead.
  const first = await client.rest.batch({
    ...siteCommands(siteId, null),
    options: methods.app.option.get.command(),
    ...perScope('site', (scope) => siteCommand(siteId, scope)),
  });
  // Reading the site is the one thing the page cannot do without.
  if (first.errors.site) throw first.errors.site;
  // A probe's error (e.g. GROUP on a portal without group knowledge bases) means "not there".
  const scope = firstSite(first.result.site) ? null : scopeThatFound(first.result, 'site', firstSite);
  let result = first.result;
  if (scope) {
    const second = await client.rest.batch(siteCommands(siteId, scope));
    if (second.errors.site) throw second.errors.site;
    result = second.result;
  }

  const found = firstSite(result.site);
  const pages = methods.landing.landing.getList.read(result.pages) ?? [];
  const syspages = Object.values(methods.landing.syspage.get.read(result.syspages) ?? {});
  const options = asObject(first.result.options);
  const offeredTypes = parseOfferedTypes(options[OFFERED_TYPES_OPTION]);
  if (typeof options[OFFERED_TYPES_OPTION] === 'string') {
    await store.setOptions(installationId, {
      [OFFERED_TYPES_OPTION]: options[OFFERED_TYPES_OPTION] as string,
    });
  }
  const byType = new Map(syspages.map((entry) => [String(entry.TYPE), entry]));
  const usable = syspageTypesFor(scope);
  return {
    siteId,
    scope,
    site: found
      ? { id: found.ID, title: found.TITLE ?? '', code: found.CODE ?? '', deleted: found.DELETED === 'Y' }
      : null,
    pages: pages.map((p) => ({ id: p.ID, title: p.TITLE ?? `#${p.ID}` })),
    special: offeredTypes
      .filter((type) => usable.includes(type))
      .map((type) => {
        const entry = byType.get(type);
        const url = result[`url_${type}`];
        return {
          type,
          landingId: entry ? Number(entry.LANDING_ID) : null,
          url: entry && typeof url === 'string' && url !== '' ? url : null,
        };
      }),
    offeredTypes,
    allTypes: SYSPAGE_TYPES,
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

const fieldOf = (form: Record<string, unknown>, key: string) =>
  typeof form[key] === 'string' ? (form[key] as string) : '';

/** Runs one form action; answers with what happened, never throws for Bitrix24 refusals. */
export async function runSettingsAction(
  client: Bitrix24Client,
  view: SettingsView,
  form: Record<string, unknown>,
  t: Translate,
  onOptionsSaved: (options: Record<string, string>) => Promise<void>,
): Promise<Flash> {
  const action = fieldOf(form, 'action');
  try {
    switch (action) {
      case 'syspages': {
        const pageIds = new Set(view.pages.map((p) => p.id));
        const changes: string[] = [];
        for (const entry of view.special) {
          const raw = fieldOf(form, `type_${entry.type}`);
          const wanted = raw === '' ? null : Number(raw);
          if (wanted !== null && !pageIds.has(wanted)) {
            return { kind: 'error', text: t('b24.TYPE_ERROR'), code: 'TYPE_ERROR' };
          }
          if (wanted === entry.landingId) continue;
          await client.landing.syspage.set(
            wanted === null
              ? { id: view.siteId, type: entry.type, ...scopeParam(view.scope) }
              : { id: view.siteId, type: entry.type, lid: wanted, ...scopeParam(view.scope) },
          );
          changes.push(
            wanted === null
              ? t('result.syspage_cleared', { type: t(`syspage.${entry.type}`) })
              : t('result.syspage_set', { type: t(`syspage.${entry.type}`), lid: wanted }),
          );
        }
        return { kind: 'ok', text: changes.length ? changes.join(' ') : t('result.saved') };
      }
      case 'trash': {
        if (fieldOf(form, 'confirm') !== 'yes') return { kind: 'error', text: t('result.confirm_needed') };
        await client.landing.site.markDelete({ id: view.siteId, ...scopeParam(view.scope) });
        return { kind: 'ok', text: t('result.site_deleted') };
      }
      case 'restore': {
        await client.landing.site.markUnDelete({ id: view.siteId, ...scopeParam(view.scope) });
        return { kind: 'ok', text: t('result.site_restored') };
      }
      case 'options': {
        const chosen = view.allTypes.filter((type) => fieldOf(form, `offer_${type}`) === 'yes');
        const options = { [OFFERED_TYPES_OPTION]: chosen.join(',') };
        await client.app.option.set({ options });
        await onOptionsSaved(options);
        return { kind: 'ok', text: t('result.options_saved') };
      }
      default:
        return { kind: 'error', text: t('errors.invalid_payload'), code: 'unknown_action' };
    }
  } catch (error) {
    if (isBitrix24Error(error)) return explainFailure(error, t);
    throw error;
  }
}

const settingsOptions = z.object({ SITE_ID: numericId, LID: numericId.optional() });
type SettingsOptions = z.output<typeof settingsOptions>;

/** Actions only a portal administrator is offered (trash affects the whole site, options every site). */
const ADMIN_ONLY_ACTIONS = new Set(['trash', 'restore', 'options']);

export const settingsPlacement: PlacementModule<SettingsOptions, SettingsView> = {
  name: 'settings',
  handlerPath: '/placements/settings',
  titleKey: 'placement.settings.title',
  codes: () => ['LANDING_SETTINGS'],
  serves: (placement) => placementCode(placement) === 'LANDING_SETTINGS',
  options: settingsOptions,
  viewKey: (options) => options.SITE_ID,
  load: (widget, services) =>
    loadSettings(widget.client, Number(widget.options.SITE_ID), services.options, widget.installation.id),
  // Not offered to other users; refused to a forged form, with the portal asked afresh.
  mayAct: async (widget, form) =>
    !ADMIN_ONLY_ACTIONS.has(String(form.action)) || (widget.admin && (await isPortalAdmin(widget.client))),
  act: (widget, view, form, services) =>
    runSettingsAction(widget.client, view, form, widget.t, (options) =>
      services.options.setOptions(widget.installation.id, options),
    ),
};
