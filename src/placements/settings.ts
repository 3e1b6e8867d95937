// LANDING_SETTINGS: the site-settings page and its actions, as plain functions over a
// Bitrix24 client. One batch request loads everything the page shows.
import type { Bitrix24Client } from '../bitrix24/client.js';
import { isBitrix24Error } from '../bitrix24/errors.js';
import {
  page as pageSchema,
  SYSPAGE_TYPES,
  type SyspageType,
  site as siteSchema,
  syspageEntry,
} from '../bitrix24/landing-methods.js';
import type { Translate } from '../i18n.js';
import type { InstallationStore } from '../installations/types.js';
import { explainFailure, type Flash } from './messages.js';

export const OFFERED_TYPES_OPTION = 'offered_syspage_types';

export interface SettingsView {
  siteId: number;
  site: { id: number; title: string; code: string; deleted: boolean } | null;
  pages: { id: number; title: string }[];
  /** Every offered type with its current page and public URL. */
  special: { type: SyspageType; landingId: number | null; url: string | null }[];
  offeredTypes: SyspageType[];
  allTypes: readonly SyspageType[];
}

export function parseOfferedTypes(value: unknown): SyspageType[] {
  if (typeof value !== 'string' || value.trim() === '') return [...SYSPAGE_TYPES];
  const chosen = value.split(',').map((s) => s.trim());
  return SYSPAGE_TYPES.filter((type) => chosen.includes(type));
}

export async function loadSettings(
  client: Bitrix24Client,
  siteId: number,
  store: InstallationStore,
  installationId: number,
): Promise<SettingsView> {
  const commands: Record<string, { method: string; params: Record<string, unknown> }> = {
    site: {
      method: 'landing.site.getList',
      params: {
        params: { select: ['ID', 'TITLE', 'CODE', 'DELETED'], filter: { ID: siteId, DELETED: ['Y', 'N'] } },
      },
    },
    pages: {
      method: 'landing.landing.getList',
      params: {
        params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { SITE_ID: siteId }, order: { ID: 'asc' } },
      },
    },
    syspages: { method: 'landing.syspage.get', params: { id: siteId } },
    options: { method: 'app.option.get', params: {} },
  };
  for (const type of SYSPAGE_TYPES) {
    commands[`url_${type}`] = { method: 'landing.syspage.getSpecialPage', params: { siteId, type } };
  }
  const { result, errors } = await client.rest.batch(commands);
  // Reading the site is the one thing the page cannot do without.
  if (errors.site) throw errors.site;

  const sites = siteSchema.array().safeParse(result.site);
  const found = sites.success ? sites.data[0] : undefined;
  const pages = pageSchema.array().safeParse(result.pages);
  const syspages = syspageEntry.array().safeParse(Object.values(asObject(result.syspages)));
  const options = asObject(result.options);
  const offeredTypes = parseOfferedTypes(options[OFFERED_TYPES_OPTION]);
  if (typeof options[OFFERED_TYPES_OPTION] === 'string') {
    await store.setOptions(installationId, {
      [OFFERED_TYPES_OPTION]: options[OFFERED_TYPES_OPTION] as string,
    });
  }
  const byType = new Map((syspages.success ? syspages.data : []).map((entry) => [String(entry.TYPE), entry]));
  return {
    siteId,
    site: found
      ? { id: found.ID, title: found.TITLE ?? '', code: found.CODE ?? '', deleted: found.DELETED === 'Y' }
      : null,
    pages: (pages.success ? pages.data : []).map((p) => ({ id: p.ID, title: p.TITLE ?? `#${p.ID}` })),
    special: offeredTypes.map((type) => {
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
              ? { id: view.siteId, type: entry.type }
              : { id: view.siteId, type: entry.type, lid: wanted },
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
        await client.landing.site.markDelete({ id: view.siteId });
        return { kind: 'ok', text: t('result.site_deleted') };
      }
      case 'restore': {
        await client.landing.site.markUnDelete({ id: view.siteId });
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
