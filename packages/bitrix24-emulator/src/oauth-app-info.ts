// The OAuth server's own `app.info` (oauth.bitrix.info/rest/app.info): the trusted answer to
// "whose token is this?". b24restdocs settings/oauth/simple-way.md and
// settings/app-installation/... (the `status` note) name it the source of trusted values; its
// answer carries, besides the app-info fields (api-reference/common/system/app-info.md), the
// app's `client_id` and, under `install`, the portal's `member_id` and `domain`: the fields
// Bitrix24's own sale module checks a posted token against
// (Bitrix\Sale\Exchange\Integration\Router::checkToken reads result.install.member_id).
// Fields no source names are not sent. Refusals are the portal REST's 401s (_includes/system-errors.md).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type EmulatorContext, portalDomain } from './context.js';
import { Errors, RestError } from './errors.js';
import { sleep } from './faults.js';
import { appInfoFields } from './methods/app.js';
import { injectedFault, oauthParams } from './oauth.js';

function ownerOf(ctx: EmulatorContext, token: unknown) {
  if (typeof token !== 'string' || !token) throw Errors.noAuth();
  const access = ctx.state.accessTokens.get(token);
  if (!access || access.revoked) throw Errors.noAuth();
  const portal = ctx.state.portals.get(access.memberId);
  const inst = portal?.apps.get(access.clientId);
  if (!portal || !inst?.installed) throw Errors.noAuth();
  if (access.expiresAt <= ctx.clock.now()) throw Errors.expired();
  return { portal, inst, clientId: access.clientId };
}

async function appInfo(ctx: EmulatorContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  ctx.stats.data.oauth.requests++;
  ctx.stats.data.oauth.appInfoRequests++;
  if (await injectedFault(ctx, req, reply)) return reply;
  const p = oauthParams(req);
  try {
    const { portal, inst, clientId } = ownerOf(ctx, p.auth);
    ctx.stats.portal(portal.memberId).appInfoRequests++;
    const portalLatency = portal.latencyMs ?? ctx.latencyMs;
    if (portalLatency > 0) await sleep(portalLatency);
    return {
      result: {
        ...appInfoFields(ctx, portal, inst),
        client_id: clientId,
        install: { member_id: portal.memberId, domain: portalDomain(ctx, portal) },
      },
    };
  } catch (e) {
    if (!(e instanceof RestError)) throw e;
    if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
    return reply.code(e.status).send({ error: e.code, error_description: e.description });
  }
}

export function registerOAuthAppInfo(app: FastifyInstance, ctx: EmulatorContext): void {
  const handler = (req: FastifyRequest, reply: FastifyReply) => appInfo(ctx, req, reply);
  for (const path of ['/rest/app.info', '/rest/app.info.json']) {
    app.get(path, handler);
    app.post(path, handler);
  }
}
