// LANDING_BLOCK_*: the block-tools widget (its module at the end), its page and its action. The
// block, its page and its site are read in one batch; the site is found through the page with a
// `$result[...]` reference. A page of a knowledge base, group knowledge base or main page takes
// a second batch in its scope.
import { z } from 'zod';
import type { Bitrix24Client } from '../bitrix24/client.js';
import { isBitrix24Error } from '../bitrix24/errors.js';
import { SYSPAGE_TYPES, type SyspageType } from '../bitrix24/landing-methods.js';
import { methods } from '../bitrix24/methods.js';
import type { Translate } from '../i18n.js';
import { explainFailure, type Flash } from './messages.js';
import { numericId, type PlacementModule, placementCode } from './module.js';
import { OFFERED_TYPES_OPTION, parseOfferedTypes } from './settings.js';
import { perScope, type SiteScope, scopeParam, scopeThatFound, syspageTypesFor } from './site-scope.js';

export interface BlockView {
  blockId: number;
  code: string;
  /** The landing `scope` the page answers in; null for ordinary sites and stores. */
  scope: SiteScope | null;
  block: { id: number; code: string; name: string } | null;
  page: { id: number; title: string; siteId: number | null };
  site: { id: number; title: string } | null;
  /** The offered special-page types this kind of site can use. */
  offeredTypes: SyspageType[];
}

const pageCommand = (lid: number, scope: SiteScope | null) =>
  methods.landing.landing.getList.command({
    ...scopeParam(scope),
    params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { ID: lid } },
  });
const blocksCommand = (lid: number, scope: SiteScope | null) =>
  methods.landing.block.getList.command({ lid, params: { edit_mode: true }, ...scopeParam(scope) });
const firstPage = (answer: unknown) => methods.landing.landing.getList.read(answer)?.[0];

export async function loadBlock(
  client: Bitrix24Client,
  options: { ID: string; CODE: string; LID: string },
  offeredTypesOption: string | undefined,
): Promise<BlockView> {
  const lid = Number(options.LID);
  // An ordinary page is read in this one batch, as always; the probes say whether the page
  // belongs to a knowledge base, group knowledge base or main page instead.
  const first = await client.rest.batch({
    blocks: blocksCommand(lid, null),
    page: pageCommand(lid, null),
    // The page's site, found by Bitrix24 within this batch (a list filter takes the reference).
    site: methods.landing.site.getList.command({
      params: { select: ['ID', 'TITLE'], filter: { ID: '$result[page][0][SITE_ID]' } },
    }),
    ...perScope('page', (scope) => pageCommand(lid, scope)),
  });
  if (first.errors.page) throw first.errors.page;
  const scope = firstPage(first.result.page) ? null : scopeThatFound(first.result, 'page', firstPage);
  let result = first.result;
  if (scope) {
    const page = firstPage(first.result[`page_${scope}`]);
    const second = await client.rest.batch({
      blocks: blocksCommand(lid, scope),
      site: methods.landing.site.getList.command({
        scope,
        params: { select: ['ID', 'TITLE'], filter: { ID: page?.SITE_ID ?? 0 } },
      }),
    });
    result = { ...second.result, page: first.result[`page_${scope}`] };
  }
  const blocks = methods.landing.block.getList.read(result.blocks);
  const found = blocks?.find((b) => b.id === Number(options.ID));
  const page = firstPage(result.page);
  const site = methods.landing.site.getList.read(result.site)?.[0];
  const usable = syspageTypesFor(scope);
  return {
    blockId: Number(options.ID),
    code: options.CODE,
    scope,
    block: found ? { id: found.id, code: found.code, name: found.name ?? '' } : null,
    page: { id: lid, title: page?.TITLE ?? `#${lid}`, siteId: page?.SITE_ID ?? null },
    site: site ? { id: site.ID, title: site.TITLE ?? '' } : null,
    offeredTypes: parseOfferedTypes(offeredTypesOption).filter((type) => usable.includes(type)),
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
  // A shop page on a knowledge base or main page: say why not, and ask the portal nothing.
  if (!syspageTypesFor(view.scope).includes(type as SyspageType)) {
    return { kind: 'error', text: t('site.shop_pages_unavailable'), code: 'syspage_unavailable' };
  }
  try {
    await client.landing.syspage.set({
      id: view.page.siteId,
      type: type as SyspageType,
      lid: view.page.id,
      ...scopeParam(view.scope),
    });
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

const blockOptions = z.object({ ID: numericId, CODE: z.string().trim().min(1).max(255), LID: numericId });
type BlockOptions = z.output<typeof blockOptions>;

export const blockPlacement: PlacementModule<BlockOptions, BlockView> = {
  name: 'block',
  handlerPath: '/placements/block',
  titleKey: 'placement.block.title',
  // Every block's menu, and the configured block codes' own entries (`LANDING_BLOCK_<CODE>`).
  codes: (blockCodes) => [
    'LANDING_BLOCK_*',
    ...blockCodes.map((code) => `LANDING_BLOCK_${code}`.toUpperCase()),
  ],
  serves: (placement) => placementCode(placement).startsWith('LANDING_BLOCK_'),
  options: blockOptions,
  viewKey: (options) => `${options.LID}:${options.ID}`,
  load: async (widget, services) => {
    const options = await services.options.getOptions(widget.installation.id);
    return loadBlock(widget.client, widget.options, options[OFFERED_TYPES_OPTION]);
  },
  act: (widget, view, form) => runBlockAction(widget.client, view, form, widget.t),
};
