import { clientEndpoint, type EmulatorContext, portalDomain, serverEndpoint } from './context.js';
import {
  type AppPageOptions,
  appPagePayload,
  type FramePayload,
  type InstallFrameOptions,
  installPayload,
  type OpenPlacementOptions,
  placementPayload,
} from './frames.js';
import { buildPhpQuery, type Params } from './params.js';
import type { PortalState } from './types.js';

/** What the app answered to a request the portal made. */
export interface AppResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface FrameResponse extends AppResponse {
  payload: FramePayload;
}

async function postForm(url: string, body: string): Promise<AppResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    redirect: 'manual',
  });
  return { url, status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/** Posts a frame payload the way the browser form would (query in the action URL, fields in the body). */
async function postFrame(payload: FramePayload): Promise<FrameResponse> {
  const res = await postForm(payload.action, new URLSearchParams(payload.body).toString());
  return { ...res, payload };
}

export async function installApp(
  ctx: EmulatorContext,
  portal: PortalState,
  o: InstallFrameOptions = {},
): Promise<FrameResponse> {
  return postFrame(installPayload(ctx, portal, o));
}

export async function openPlacement(
  ctx: EmulatorContext,
  portal: PortalState,
  o: OpenPlacementOptions,
): Promise<FrameResponse> {
  return postFrame(placementPayload(ctx, portal, o));
}

export async function openApp(
  ctx: EmulatorContext,
  portal: PortalState,
  o: AppPageOptions = {},
): Promise<FrameResponse> {
  return postFrame(appPagePayload(ctx, portal, o));
}

const ts = (ctx: EmulatorContext): string => String(Math.floor(ctx.clock.now() / 1000));

/**
 * ONAPPINSTALL with the full auth[...] set incl. application_token and server_endpoint, as for
 * apps without UI (api-reference/common/events/on-app-install.md, settings/oauth/simple-way.md).
 * Test API: `userId` may name a non-admin, to play a forged event with a user's own tokens.
 */
export async function sendOnAppInstall(
  ctx: EmulatorContext,
  portal: PortalState,
  handlerUrl: string,
  o: { clientId?: string; userId?: number } = {},
): Promise<AppResponse> {
  const clientId = o.clientId ?? ctx.state.defaultClientId();
  const reg = ctx.state.app(clientId);
  const inst = ctx.state.installation(portal, clientId);
  inst.installed = true;
  const user = ctx.state.user(portal, o.userId);
  const { access, refresh } = ctx.state.issueTokens(portal.memberId, clientId, user.id);
  const body: Params = {
    event: 'ONAPPINSTALL',
    data: { VERSION: String(reg.version), ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: portal.lang },
    ts: ts(ctx),
    auth: {
      access_token: access.token,
      expires: String(Math.floor(access.expiresAt / 1000)),
      expires_in: String(ctx.state.accessTokenTtl),
      scope: reg.scope,
      domain: portalDomain(ctx, portal),
      server_endpoint: serverEndpoint(ctx),
      status: reg.status,
      client_endpoint: clientEndpoint(ctx, portal),
      member_id: portal.memberId,
      user_id: String(user.id),
      refresh_token: refresh.token,
      application_token: inst.applicationToken,
    },
  };
  return postForm(handlerUrl, buildPhpQuery(body));
}

/**
 * Uninstall: the app's tokens die first (so the handler cannot use them: on-app-uninstall.md), then
 * ONAPPUNINSTALL goes to every handler bound with event.bind. Placements and events go with the app
 * (api-reference/events/event-bind.md: "When deleting ... the application, its actions will be
 * removed"); app and user options go only with `clean` ("Clear application data", CLEAN=1 in
 * on-app-uninstall.md; that CLEAN=0 keeps them is assumed: the docs say no more).
 */
export async function uninstallApp(
  ctx: EmulatorContext,
  portal: PortalState,
  o: { clean?: boolean; clientId?: string } = {},
): Promise<AppResponse[]> {
  const clientId = o.clientId ?? ctx.state.defaultClientId();
  const inst = ctx.state.installation(portal, clientId);
  const handlers = inst.events.filter((e) => e.event === 'ONAPPUNINSTALL').map((e) => e.handler);
  ctx.state.revokeAppTokens(portal.memberId, clientId);
  inst.installed = false;
  inst.installFinished = false;
  inst.placements = [];
  inst.events = [];
  if (o.clean) {
    inst.options = {};
    inst.userOptions = {};
  }
  const body = buildPhpQuery({
    event: 'ONAPPUNINSTALL',
    data: { LANGUAGE_ID: portal.lang, CLEAN: o.clean ? '1' : '0' },
    ts: ts(ctx),
    auth: {
      domain: portalDomain(ctx, portal),
      server_endpoint: serverEndpoint(ctx),
      client_endpoint: clientEndpoint(ctx, portal),
      member_id: portal.memberId,
      application_token: inst.applicationToken,
    },
  });
  const results: AppResponse[] = [];
  for (const h of handlers) results.push(await postForm(h, body));
  return results;
}
