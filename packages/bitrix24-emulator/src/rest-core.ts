import type { EmulatorContext } from './context.js';
import { Errors, RestError } from './errors.js';
import { isoSeconds } from './format.js';
import { METHODS } from './methods/index.js';
import type { AuthInfo } from './methods/types.js';
import { intParam, type Params } from './params.js';
import type { PortalState } from './types.js';

export const PAGE_SIZE = 50;

export interface RestTime {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating_reset_at: number;
  operating: number;
}

export interface MethodOutcome {
  result: unknown;
  total?: number;
  next?: number;
  time: RestTime;
}

export function restTime(
  startMs: number,
  finishMs: number,
  op: { operating: number; resetAt: number },
): RestTime {
  const duration = Math.max(0, (finishMs - startMs) / 1000);
  return {
    start: startMs / 1000,
    finish: finishMs / 1000,
    duration,
    processing: duration,
    date_start: isoSeconds(startMs),
    date_finish: isoSeconds(finishMs),
    operating_reset_at: op.resetAt,
    operating: op.operating,
  };
}

/**
 * Resolves `auth` (an access token) or a webhook path to the caller, with Bitrix24's 401 answers
 * (NO_AUTH_FOUND, expired_token: _includes/system-errors.md; webhooks: local-integrations/local-webhooks.md).
 */
export function resolveAuth(
  ctx: EmulatorContext,
  portal: PortalState,
  token: unknown,
  webhook?: { userId: number; code: string },
): AuthInfo {
  if (webhook) {
    const hook = portal.webhooks.find((w) => w.userId === webhook.userId && w.code === webhook.code);
    const user = hook ? portal.users.get(hook.userId) : undefined;
    if (!user) throw Errors.noAuth();
    return { kind: 'webhook', user, caller: `webhook:${webhook.code}`, scopes: 'all' };
  }
  if (typeof token !== 'string' || !token) throw Errors.noAuth();
  const access = ctx.state.accessTokens.get(token);
  if (!access || access.memberId !== portal.memberId || access.revoked) throw Errors.noAuth();
  const installation = portal.apps.get(access.clientId);
  const user = portal.users.get(access.userId);
  if (!installation?.installed || !user) throw Errors.noAuth();
  if (access.expiresAt <= ctx.clock.now()) throw Errors.expired();
  const reg = ctx.state.app(access.clientId);
  return {
    kind: 'app',
    user,
    clientId: access.clientId,
    installation,
    token,
    caller: `app:${access.clientId}`,
    scopes: new Set(
      reg.scope
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  };
}

function hasScope(auth: AuthInfo, scope: string | string[] | null): boolean {
  if (scope === null || auth.scopes === 'all') return true;
  const granted = auth.scopes;
  return (Array.isArray(scope) ? scope : [scope]).some((s) => granted.has(s));
}

/** Runs one method (top level or inside batch): lookup, scope, operating limit, handler, paging by 50 (settings/how-to-call-rest-api/list-methods-pecularities.md). */
export function runMethod(
  ctx: EmulatorContext,
  portal: PortalState,
  auth: AuthInfo,
  method: string,
  params: Params,
): MethodOutcome {
  const startMs = ctx.clock.now();
  const name = method.toLowerCase();
  const def = METHODS.get(name);
  if (!def) throw Errors.methodNotFound();
  if (!hasScope(auth, def.scope)) throw Errors.insufficientScope();
  if (ctx.operating.blocked(portal.memberId, name)) {
    ctx.stats.portal(portal.memberId).operatingBlocked++;
    throw Errors.operationTimeLimit();
  }
  let result: unknown;
  try {
    result = def.handler({ ctx, portal, auth, params, method: name });
  } catch (e) {
    if (e instanceof RestError) ctx.operating.record(portal.memberId, name, auth.caller);
    throw e;
  }
  const op = ctx.operating.record(portal.memberId, name, auth.caller);
  const outcome: MethodOutcome = { result, time: restTime(startMs, ctx.clock.now(), op) };
  if (def.list && Array.isArray(result)) {
    const start = Math.max(0, intParam(params, 'start') ?? 0);
    outcome.result = result.slice(start, start + PAGE_SIZE);
    outcome.total = result.length;
    if (start + PAGE_SIZE < result.length) outcome.next = start + PAGE_SIZE;
  }
  return outcome;
}
