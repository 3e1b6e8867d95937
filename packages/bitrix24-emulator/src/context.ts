import type { FastifyRequest } from 'fastify';
import type { LeakyBuckets } from './bucket.js';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import type { OperatingLimits } from './operating.js';
import type { EmulatorState } from './state.js';
import type { Stats } from './stats.js';
import type { FramePayload, PortalState } from './types.js';

/** Which portal a request is for: fixed for a portal's own server, by local port for the shared one. */
export type PortalOf = (req: FastifyRequest) => PortalState;

/** Everything the servers and handle share. */
export interface EmulatorContext {
  state: EmulatorState;
  clock: Clock;
  stats: Stats;
  faults: Faults;
  buckets: LeakyBuckets;
  operating: OperatingLimits;
  host: string;
  /** Port of the OAuth server, known once it listens. */
  oauthPort: number;
  defaultAppUrl?: string;
  /** App frames opened from editor pages, by frameId. */
  frames: Map<string, FramePayload>;
  /** Latency of answers that name no portal (an OAuth request with an unknown token). */
  latencyMs: number;
}

export const oauthDomain = (ctx: EmulatorContext): string => `${ctx.host}:${ctx.oauthPort}`;
export const oauthBase = (ctx: EmulatorContext): string => `http://${oauthDomain(ctx)}`;
export const serverEndpoint = (ctx: EmulatorContext): string => `${oauthBase(ctx)}/rest/`;
/** DOMAIN as Bitrix24 sends it: host and port, no scheme. */
export const portalDomain = (ctx: EmulatorContext, portal: PortalState): string =>
  `${ctx.host}:${portal.port}`;
export const portalBase = (ctx: EmulatorContext, portal: PortalState): string =>
  `http://${portalDomain(ctx, portal)}`;
export const clientEndpoint = (ctx: EmulatorContext, portal: PortalState): string =>
  `${portalBase(ctx, portal)}/rest/`;
