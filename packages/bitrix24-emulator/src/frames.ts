import { type EmulatorContext, portalDomain, serverEndpoint } from './context.js';
import { normalizePlacement } from './methods/landing-repo.js';
import { phpJson } from './params.js';
import { randomHex } from './seed.js';
import type { AppInstallation, BlockState, FramePayload, PlacementBinding, PortalState } from './types.js';

export type { FramePayload, InitData } from './types.js';

export interface OpenPlacementOptions {
  placement: string;
  /** Which bound handler to open; default: the first one bound for the placement. */
  handler?: string;
  clientId?: string;
  userId?: number;
  lang?: string;
  /** PLACEMENT_OPTIONS; by default derived from siteId/landingId/blockId (and the first site/page/block). */
  options?: Record<string, string | number>;
  siteId?: number;
  landingId?: number;
  blockId?: number;
}

const empty = (o: Record<string, unknown>): Record<string, unknown> | [] => (Object.keys(o).length ? o : []);

/** LANDING_BLOCK_* matches every block, LANDING_BLOCK_<CODE> blocks with that code (case-insensitive). */
export const placementMatchesBlock = (placement: string, block: BlockState): boolean =>
  placement === 'LANDING_BLOCK_*' || placement === `LANDING_BLOCK_${block.code}`.toUpperCase();

/** Placements are shown only once the app signalled installFinish. */
export function visiblePlacements(portal: PortalState): PlacementBinding[] {
  return [...portal.apps.values()]
    .filter((a) => a.installed && a.installFinished)
    .flatMap((a) => a.placements);
}

function appSidFor(ctx: EmulatorContext, clientId: string): string {
  return ctx.state.app(clientId).appSid ?? randomHex(16);
}

function build(
  ctx: EmulatorContext,
  portal: PortalState,
  inst: AppInstallation,
  opts: {
    userId?: number;
    lang?: string;
    handler: string;
    placement: string;
    options: Record<string, string>;
    install: boolean;
  },
): FramePayload {
  const reg = ctx.state.app(inst.clientId);
  const user = ctx.state.user(portal, opts.userId);
  const { access, refresh } = ctx.state.issueTokens(portal.memberId, inst.clientId, user.id);
  const appSid = appSidFor(ctx, inst.clientId);
  const domain = portalDomain(ctx, portal);
  const lang = opts.lang ?? portal.lang;
  const query = { DOMAIN: domain, PROTOCOL: '0', LANG: lang, APP_SID: appSid };
  const auth: [string, string][] = [
    ['AUTH_ID', access.token],
    ['AUTH_EXPIRES', String(ctx.state.accessTokenTtl)],
    ['REFRESH_ID', refresh.token],
  ];
  const tail: [string, string][] = [
    ['member_id', portal.memberId],
    ['status', reg.status],
    ['PLACEMENT', opts.placement],
    ['PLACEMENT_OPTIONS', phpJson(opts.options)],
  ];
  // Install and app page (PLACEMENT=DEFAULT): order of settings/oauth/simple-way.md (current
  // version: SERVER_ENDPOINT, APPLICATION_TOKEN, APPLICATION_SCOPE after the tokens). Widgets:
  // order of api-reference/landing/embedding/block.md. Apps read fields by name either way.
  const body: [string, string][] =
    opts.placement === 'DEFAULT'
      ? [
          ...auth,
          ['SERVER_ENDPOINT', serverEndpoint(ctx)],
          ['APPLICATION_TOKEN', inst.applicationToken],
          ['APPLICATION_SCOPE', reg.scope],
          ...tail,
        ]
      : [
          ['APPLICATION_SCOPE', reg.scope],
          ['APPLICATION_TOKEN', inst.applicationToken],
          ...auth,
          ['SERVER_ENDPOINT', serverEndpoint(ctx)],
          ...tail,
        ];
  const url = new URL(opts.handler);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return {
    frameId: randomHex(8),
    memberId: portal.memberId,
    clientId: inst.clientId,
    userId: user.id,
    appSid,
    iframeName: `${domain}|0|${appSid}`,
    action: url.toString(),
    query,
    body,
    init: {
      DOMAIN: domain,
      PROTOCOL: 0,
      PATH: `/marketplace/app/${[...ctx.state.apps.keys()].indexOf(inst.clientId) + 1}/`,
      LANG: lang,
      MEMBER_ID: portal.memberId,
      IS_ADMIN: user.admin,
      AUTH_ID: access.token,
      REFRESH_ID: refresh.token,
      AUTH_EXPIRES: ctx.state.accessTokenTtl,
      APP_OPTIONS: empty(inst.options),
      USER_OPTIONS: empty(inst.userOptions[user.id] ?? {}),
      PLACEMENT: opts.placement,
      PLACEMENT_OPTIONS: opts.options,
      INSTALL: opts.install,
      FIRST_RUN: opts.install,
    },
  };
}

const joinUrl = (base: string, path: string): string =>
  base.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);

function appBase(ctx: EmulatorContext, clientId: string, override?: string): string {
  const base = override ?? ctx.state.app(clientId).appUrl ?? ctx.defaultAppUrl;
  if (!base) throw new Error(`No app URL known for ${clientId}: pass appUrl`);
  return base;
}

export interface InstallFrameOptions {
  clientId?: string;
  appUrl?: string;
  installPath?: string;
  userId?: number;
  lang?: string;
}

/** (Re)installs the app for the portal and builds the DEFAULT-placement POST to its install URL. */
export function installPayload(
  ctx: EmulatorContext,
  portal: PortalState,
  o: InstallFrameOptions = {},
): FramePayload {
  const clientId = o.clientId ?? ctx.state.defaultClientId();
  const reg = ctx.state.app(clientId);
  const base = appBase(ctx, clientId, o.appUrl);
  const user = ctx.state.user(portal, o.userId);
  // Only an administrator installs (settings/app-installation/local-apps/installation-master.md:
  // the installing user "is by definition the same Bitrix24 administrator").
  if (!user.admin) throw new Error('Only an administrator can install applications');
  const inst = ctx.state.installation(portal, clientId);
  inst.installed = true;
  inst.installFinished = false;
  const handler = joinUrl(base, o.installPath ?? reg.installPath ?? '/install');
  return build(ctx, portal, inst, {
    userId: user.id,
    lang: o.lang,
    handler,
    placement: 'DEFAULT',
    options: {},
    install: true,
  });
}

function defaultOptions(
  portal: PortalState,
  placement: string,
  o: OpenPlacementOptions,
): Record<string, string> {
  if (placement === 'LANDING_SETTINGS') {
    const siteId = o.siteId ?? [...portal.sites.values()].find((s) => !s.deleted)?.id;
    if (siteId === undefined) throw new Error('No site to open LANDING_SETTINGS for');
    const lid = o.landingId ?? [...portal.pages.values()].find((p) => p.siteId === siteId)?.id ?? siteId;
    return { SITE_ID: String(siteId), LID: String(lid) };
  }
  const block =
    o.blockId !== undefined
      ? portal.blocks.get(o.blockId)
      : [...portal.blocks.values()].find((b) => placementMatchesBlock(placement, b));
  if (!block) throw new Error(`No block for ${placement}`);
  if (!placementMatchesBlock(placement, block))
    throw new Error(`${placement} is not shown for block ${block.code}`);
  return { ID: String(block.id), CODE: block.code, LID: String(block.pageId) };
}

/** Builds the widget POST a user triggers by choosing a bound LANDING_* item in the editor. */
export function placementPayload(
  ctx: EmulatorContext,
  portal: PortalState,
  o: OpenPlacementOptions,
): FramePayload {
  const placement = normalizePlacement(o.placement);
  const binding = visiblePlacements(portal).find(
    (p) =>
      p.placement === placement &&
      (o.handler === undefined || p.handler === o.handler) &&
      (o.clientId === undefined || p.clientId === o.clientId),
  );
  if (!binding) {
    throw new Error(`No visible ${placement} placement (bound with landing.repo.bind, after installFinish)`);
  }
  const options = o.options
    ? Object.fromEntries(Object.entries(o.options).map(([k, v]) => [k, String(v)]))
    : defaultOptions(portal, placement, o);
  return build(ctx, portal, ctx.state.installation(portal, binding.clientId), {
    userId: o.userId,
    lang: o.lang,
    handler: binding.handler,
    placement,
    options,
    install: false,
  });
}

export interface AppPageOptions {
  clientId?: string;
  userId?: number;
  lang?: string;
}

/**
 * The app's own page (the "application link", handler path `appUrl + handlerPath`, default "/"):
 * the same POST as a widget with PLACEMENT=DEFAULT. Before installFinish an administrator gets
 * the install page again and other users are refused
 * (settings/app-installation/installation-finish.md, local-apps/installation-master.md).
 */
export function appPagePayload(
  ctx: EmulatorContext,
  portal: PortalState,
  o: AppPageOptions = {},
): FramePayload {
  const clientId = o.clientId ?? ctx.state.defaultClientId();
  const reg = ctx.state.app(clientId);
  const inst = ctx.state.installation(portal, clientId);
  if (!inst.installed) throw new Error(`App ${clientId} is not installed`);
  const user = ctx.state.user(portal, o.userId);
  if (!inst.installFinished) {
    if (!user.admin) {
      throw new Error(
        'The application is not fully installed yet. Please contact your Bitrix24 administrator to complete the installation.',
      );
    }
    return installPayload(ctx, portal, { clientId, userId: user.id, lang: o.lang });
  }
  return build(ctx, portal, inst, {
    userId: user.id,
    lang: o.lang,
    handler: joinUrl(appBase(ctx, clientId), reg.handlerPath ?? '/'),
    placement: 'DEFAULT',
    options: {},
    install: false,
  });
}
