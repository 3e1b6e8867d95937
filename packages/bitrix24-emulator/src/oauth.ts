import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  clientEndpoint,
  type EmulatorContext,
  oauthDomain,
  type PortalOf,
  serverEndpoint,
} from './context.js';
import { sleep } from './faults.js';
import { isPlainObject, type Params } from './params.js';
import type { IssuedTokens } from './state.js';

/** The JSON body /oauth/token/ answers with, field for field as oauth.bitrix.info does. */
export interface TokenResponse {
  access_token: string;
  expires: number;
  expires_in: number;
  scope: string;
  domain: string;
  server_endpoint: string;
  status: string;
  client_endpoint: string;
  member_id: string;
  user_id: number;
  refresh_token: string;
}

export function tokenResponse(ctx: EmulatorContext, tokens: IssuedTokens): TokenResponse {
  const { access, refresh } = tokens;
  const portal = ctx.state.portal(access.memberId);
  // Field set and `scope` as the comma-separated granted list: settings/oauth/index.md (current version).
  return {
    access_token: access.token,
    expires: Math.floor(access.expiresAt / 1000),
    expires_in: ctx.state.accessTokenTtl,
    scope: ctx.state.app(access.clientId).scope,
    domain: oauthDomain(ctx),
    server_endpoint: serverEndpoint(ctx),
    status: ctx.state.app(access.clientId).status,
    client_endpoint: clientEndpoint(ctx, portal),
    member_id: portal.memberId,
    user_id: access.userId,
    refresh_token: refresh.token,
  };
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(code);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function checkClient(ctx: EmulatorContext, p: Params): string {
  const clientId = str(p.client_id);
  const app = ctx.state.apps.get(clientId);
  if (!clientId || !app) throw new OAuthError(401, 'invalid_client', 'Invalid client_id');
  if (str(p.client_secret) !== app.clientSecret)
    throw new OAuthError(401, 'invalid_client', 'Invalid client_secret');
  return clientId;
}

/**
 * settings/oauth/auto-renewal.md: a refresh answers a new pair. Single use of the old refresh token
 * (and death of the access token issued with it) is assumed: the docs do not say.
 */
function refreshGrant(ctx: EmulatorContext, p: Params): TokenResponse {
  const clientId = checkClient(ctx, p);
  const rt = ctx.state.refreshTokens.get(str(p.refresh_token));
  if (!rt) throw new OAuthError(400, 'invalid_grant', 'Invalid refresh token');
  const stats = ctx.stats.portal(rt.memberId);
  stats.refreshRequests++;
  try {
    if (rt.clientId !== clientId)
      throw new OAuthError(400, 'invalid_grant', 'Refresh token was issued to another client');
    if (rt.used) throw new OAuthError(400, 'invalid_grant', 'Refresh token has already been used');
    if (rt.revoked) throw new OAuthError(400, 'invalid_grant', 'Refresh token has been revoked');
    if (rt.expiresAt <= ctx.clock.now())
      throw new OAuthError(400, 'invalid_grant', 'Refresh token has expired');
    const portal = ctx.state.portals.get(rt.memberId);
    if (!portal?.apps.get(clientId)?.installed) {
      throw new OAuthError(400, 'invalid_grant', 'Application is not installed');
    }
    rt.used = true;
    const old = ctx.state.accessTokens.get(rt.accessToken);
    if (old) old.revoked = true;
    return tokenResponse(ctx, ctx.state.issueTokens(rt.memberId, clientId, rt.userId));
  } catch (e) {
    stats.refreshFailures++;
    ctx.stats.data.oauth.refreshFailures++;
    throw e;
  }
}

function codeGrant(ctx: EmulatorContext, p: Params): TokenResponse {
  const clientId = checkClient(ctx, p);
  const code = ctx.state.authCodes.get(str(p.code));
  if (!code || code.used || code.clientId !== clientId || code.expiresAt <= ctx.clock.now()) {
    throw new OAuthError(400, 'invalid_grant', 'Invalid authorization code');
  }
  code.used = true;
  ctx.stats.portal(code.memberId).codeGrants++;
  ctx.stats.data.oauth.codeGrants++;
  return tokenResponse(ctx, ctx.state.issueTokens(code.memberId, clientId, code.userId));
}

/**
 * The OAuth server's injected faults (faults.ts, the `oauth` rule) for one request: its
 * latency, then a dropped connection or an error answer. True when a fault answered (a boolean:
 * a Fastify reply is thenable, so an async function must not hand one back).
 */
export async function injectedFault(
  ctx: EmulatorContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const latency = ctx.faults.latencyFor('oauth');
  if (latency > 0) await sleep(latency);
  const fault = ctx.faults.decide('oauth');
  if (fault.kind === 'drop') {
    req.raw.socket.destroy();
    reply.hijack();
    return true;
  }
  if (fault.kind === 'error') {
    ctx.stats.data.oauth.failures++;
    reply
      .code(fault.status)
      .send({ error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
    return true;
  }
  return false;
}

/** An OAuth request's parameters: the query and a form or JSON body, as the server reads them. */
export function oauthParams(req: FastifyRequest): Params {
  return {
    ...(isPlainObject(req.query) ? req.query : {}),
    ...(isPlainObject(req.body) ? req.body : {}),
  };
}

async function tokenEndpoint(
  ctx: EmulatorContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const stats = ctx.stats.data.oauth;
  stats.requests++;
  if (await injectedFault(ctx, req, reply)) return reply;
  const p = oauthParams(req);
  try {
    const grant = str(p.grant_type);
    let answer: TokenResponse;
    if (grant === 'refresh_token') {
      stats.refreshRequests++;
      answer = refreshGrant(ctx, p);
    } else if (grant === 'authorization_code') {
      answer = codeGrant(ctx, p);
    } else {
      throw new OAuthError(
        400,
        grant ? 'unsupported_grant_type' : 'invalid_request',
        `Unsupported grant_type: ${grant}`,
      );
    }
    // The portal's added latency (a test aid): the answer names the portal it belongs to.
    const latency = ctx.state.portals.get(answer.member_id)?.latencyMs ?? ctx.latencyMs;
    if (latency > 0) await sleep(latency);
    return answer;
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    stats.failures++;
    if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
    return reply.code(e.status).send({ error: e.code, error_description: e.description });
  }
}

export function registerOAuthToken(app: FastifyInstance, ctx: EmulatorContext): void {
  const handler = (req: FastifyRequest, reply: FastifyReply) => tokenEndpoint(ctx, req, reply);
  app.get('/oauth/token/', handler);
  app.post('/oauth/token/', handler);
}

/**
 * settings/oauth/index.md: code grant start on the portal, code valid 30 s: the emulator has no login form, so the "logged-in" user is
 * `user_id` (default: the admin). Redirects to redirect_uri (or the app URL) with code & state.
 */
export function registerOAuthAuthorize(app: FastifyInstance, ctx: EmulatorContext, portalOf: PortalOf): void {
  app.get('/oauth/authorize/', async (req, reply) => {
    const portal = portalOf(req);
    const q = isPlainObject(req.query) ? req.query : {};
    const clientId = str(q.client_id);
    const reg = ctx.state.apps.get(clientId);
    if (!reg)
      return reply.code(400).send({ error: 'invalid_client', error_description: 'Invalid client_id' });
    const inst = portal.apps.get(clientId);
    if (!inst?.installed) {
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'Application is not installed' });
    }
    const userId = q.user_id ? Number(q.user_id) : ctx.state.user(portal).id;
    if (!portal.users.has(userId))
      return reply.code(400).send({ error: 'invalid_request', error_description: 'Unknown user' });
    const code = ctx.state.issueAuthCode(portal.memberId, clientId, userId);
    const params = new URLSearchParams({
      code: code.code,
      state: str(q.state),
      domain: `${ctx.host}:${portal.port}`,
      member_id: portal.memberId,
      scope: reg.scope,
      server_domain: oauthDomain(ctx),
    });
    const target = str(q.redirect_uri) || reg.appUrl || ctx.defaultAppUrl;
    if (!target) return Object.fromEntries(params);
    const url = new URL(target);
    for (const [k, v] of params) url.searchParams.set(k, v);
    return reply.redirect(url.toString(), 302);
  });
}
