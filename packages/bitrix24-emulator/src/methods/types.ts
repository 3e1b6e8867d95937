import type { EmulatorContext } from '../context.js';
import type { Params } from '../params.js';
import type { AppInstallation, PortalState, UserState } from '../types.js';

/** Who is calling: an app token (app context) or an incoming webhook (no app context). */
export interface AuthInfo {
  kind: 'app' | 'webhook';
  user: UserState;
  clientId?: string;
  installation?: AppInstallation;
  token?: string;
  /** Key for operating-time accounting: the app or the webhook. */
  caller: string;
  /** Granted REST scopes; webhooks get all. */
  scopes: Set<string> | 'all';
}

export interface MethodContext {
  ctx: EmulatorContext;
  portal: PortalState;
  auth: AuthInfo;
  params: Params;
  method: string;
}

export interface MethodDef {
  /** Required REST scope(s) (any of); null for methods every app may call (scope "basic"). */
  scope: string | string[] | null;
  handler: (mc: MethodContext) => unknown;
  /** Classic list method: paged by 50 with `start`, answered with next/total. */
  list?: boolean;
}

export type MethodTable = Record<string, MethodDef>;
