// LANDING_BLOCK_*: the block-tools page and its action. The block, its page and its site are
// read in one batch; the site is found through the page with a `$result[...]` reference.
import type { Bitrix24Client } from '../bitrix24/client.js';
import { isBitrix24Error } from '../bitrix24/errors.js';
import type { SyspageType } from '../bitrix24/landing-methods.js';
import {
  block as blockSchema,
  page as pageSchema,
  SYSPAGE_TYPES,
  site as siteSchema,
} from '../bitrix24/landing-methods.js';
import type { Translate } from '../i18n.js';
import { explainFailure, type Flash } from './messages.js';
import { parseOfferedTypes } from './settings.js';

export interface BlockView {
  blockId: number;
  code: string;
  block: { id: number; code: string; name: string } | null;
  page: { id: number; title: string; siteId: number | null };
  site: { id: number; title: string } | null;
  offeredTypes: SyspageType[];
}

export async function loadBlock(
  client: Bitrix24Client,
  options: { ID: string; CODE: string; LID: string },
  offeredTypesOption: string | undefined,
): Promise<BlockView> {
  const lid = Number(options.LID);
  const { result, errors } = await client.rest.batch({
    blocks: { method: 'landing.block.getList', params: { lid, params: { edit_mode: true } } },
    page: {
      method: 'landing.landing.getList',
      params: { params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { ID: lid } } },
    },
    site: {
      method: 'landing.site.getList',
      params: { params: { select: ['ID', 'TITLE'], filter: { ID: '$result[page][0][SITE_ID]' } } },
    },
  });
  if (errors.page) throw errors.page;
  const blocks = blockSchema.array().safeParse(result.blocks);
  const found = blocks.success ? blocks.data.find((b) => b.id === Number(options.ID)) : undefined;
  const pages = pageSchema.array().safeParse(result.page);
  const page = pages.success ? pages.data[0] : undefined;
  const sites = siteSchema.array().safeParse(result.site);
  const site = sites.success ? sites.data[0] : undefined;
  return {
    blockId: Number(options.ID),
    code: options.CODE,
    block: found ? { id: found.id, code: found.code, name: found.name ?? '' } : null,
    page: { id: lid, title: page?.TITLE ?? `#${lid}`, siteId: page?.SITE_ID ?? null },
    site: site ? { id: site.ID, title: site.TITLE ?? '' } : null,
    offeredTypes: parseOfferedTypes(offeredTypesOption),
  };
}

/** Makes the block's page the chosen special page of its site. */
export async function runBlockAction(
  client: Bitrix24Client,
  view: BlockView,
  form: Record<string, unknown>,
  t: Translate,
): Promise<Flash & { refreshBlock?: number }> {
  const type = typeof form.type === 'string' ? form.type : '';
  if (
    form.action !== 'make_special' ||
    !(SYSPAGE_TYPES as readonly string[]).includes(type) ||
    view.page.siteId === null
  ) {
    return { kind: 'error', text: t('errors.invalid_payload'), code: 'invalid_action' };
  }
  try {
    await client.landing.syspage.set({ id: view.page.siteId, type: type as SyspageType, lid: view.page.id });
  } catch (error) {
    if (isBitrix24Error(error)) return explainFailure(error, t);
    throw error;
  }
  return {
    kind: 'ok',
    text: t('result.syspage_set', { type: t(`syspage.${type}`), lid: view.page.id }),
    refreshBlock: view.blockId,
  };
}
