import { type BucketLimits, LeakyBuckets } from './bucket.js';
import { type Clock, EmulatorClock } from './clock.js';
import {
  clientEndpoint,
  type EmulatorContext,
  oauthBase,
  portalBase,
  portalDomain,
  serverEndpoint,
} from './context.js';
import { type FaultOptions, Faults } from './faults.js';
import type { AppPageOptions, InstallFrameOptions, OpenPlacementOptions } from './frames.js';
import { type TokenResponse, tokenResponse } from './oauth.js';
import { DEFAULT_METHOD_TIME, OperatingLimits } from './operating.js';
import * as portalSide from './portal-side.js';
import { buildPortal, type PortalSeed, randomHex } from './seed.js';
import { startOAuthServer, startPortalServer, startSharedPortalServers } from './server.js';
import { EmulatorState } from './state.js';
import { Stats, type StatsData } from './stats.js';
import type { PortalState } from './types.js';

export type { BucketLimits } from './bucket.js';
export type { Clock } from './clock.js';
export { EmulatorClock } from './clock.js';
export type { FaultOptions, FaultRule } from './faults.js';
export type {
  AppPageOptions,
  FramePayload,
  InitData,
  InstallFrameOptions,
  OpenPlacementOptions,
} from './frames.js';
export type { TokenResponse } from './oauth.js';
export type { AppResponse, FrameResponse } from './portal-side.js';
export type { BlockSeed, PageSeed, PortalSeed, SiteSeed, UserSeed } from './seed.js';
export { DEMO_SITES } from './seed.js';
export type { PortalStats, StatsData } from './stats.js';

export interface AppSeed {
  clientId: string;
  clientSecret: string;
  appSid?: string;
  appUrl?: string;
  installPath?: string;
  /** The app's own page opened after installFinish (Bitrix24's "handler path"); default "/". */
  handlerPath?: string;
  /** Comma-separated REST scopes; default "landing,placement,user_brief". */
  scope?: string;
  /** Application type letter sent as `status`; default "L" (local app). */
  status?: string;
  version?: number;
}

export interface EmulatorOptions {
  host?: string;
  /** Port of the OAuth server (0 = random). Portals take their own ports (PortalSeed.port). */
  port?: number;
  portals?: PortalSeed[];
  limits?: Partial<BucketLimits>;
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  clock?: Clock;
  faults?: FaultOptions;
  apps?: AppSeed[];
  /** Default base URL of the app (install URL = appUrl + installPath). */
  appUrl?: string;
  /**
   * Added latency, in ms, of every REST and OAuth answer (each portal's default; PortalSeed.latencyMs
   * overrides it). A test and benchmark aid, not a Bitrix24 rule: real portals are 50-300 ms away.
   */
  latencyMs?: number;
  /** Simulated execution seconds per REST method, for the operating limit. */
  methodTimes?: Record<string, number>;
  defaultMethodTime?: number;
  /**
   * One request handler for every portal instead of one Fastify instance each (thousands of
   * portals, e.g. benchmarks). Each portal still has its own port and DOMAIN; the portal is
   * found by the port a connection arrived on. Default false.
   */
  sharedPortalHandler?: boolean;
  /**
   * With sharedPortalHandler: portals without a seed port take free ports counting up from
   * here instead of random ones, which the kernel finds slowly once thousands are in use.
   */
  firstPortalPort?: number;
}

export interface PortalInfo {
  memberId: string;
  /** DOMAIN as sent to apps: `127.0.0.1:<port>`. */
  domain: string;
  port: number;
  baseUrl: string;
  /** The Sites editor page (origin = DOMAIN). */
  editorUrl: string;
  clientEndpoint: string;
  adminUserId: number;
  userIds: number[];
}

export const DEFAULT_APP: AppSeed = {
  clientId: 'local.emulator-app',
  clientSecret: 'emulator-secret',
};
export const DEMO_MEMBER_ID = 'a223c6b3710f85df22e9377d6c4f7553';

const snapshotPortal = (p: PortalState) =>
  structuredClone({
    memberId: p.memberId,
    title: p.title,
    apps: [...p.apps.values()],
    users: [...p.users.values()],
    sites: [...p.sites.values()],
    pages: [...p.pages.values()],
    blocks: [...p.blocks.values()],
    syspages: p.syspages,
    webhooks: p.webhooks,
    frameEvents: p.frameEvents,
    refreshedBlocks: p.refreshedBlocks,
    placementCalls: p.placementCalls,
  });

export type PortalSnapshot = ReturnType<typeof snapshotPortal>;

export async function startEmulator(options: EmulatorOptions = {}) {
  const clock = options.clock ?? new EmulatorClock();
  const state = new EmulatorState(clock, options.accessTokenTtl ?? 3600);
  const stats = new Stats();
  const faults = new Faults(options.faults);
  const buckets = new LeakyBuckets(clock, { bucketSize: 50, drainPerSecond: 2, ...options.limits });
  const operating = new OperatingLimits(
    clock,
    options.methodTimes,
    options.defaultMethodTime ?? DEFAULT_METHOD_TIME,
  );
  const ctx: EmulatorContext = {
    state,
    clock,
    stats,
    faults,
    buckets,
    operating,
    host: options.host ?? '127.0.0.1',
    oauthPort: 0,
    defaultAppUrl: options.appUrl,
    frames: new Map(),
    latencyMs: options.latencyMs ?? 0,
  };
  for (const a of options.apps ?? ([DEFAULT_APP] as AppSeed[])) {
    state.apps.set(a.clientId, {
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      appSid: a.appSid,
      appUrl: a.appUrl,
      installPath: a.installPath,
      handlerPath: a.handlerPath,
      scope: a.scope ?? 'landing,placement,user_brief',
      status: a.status ?? 'L',
      version: a.version ?? 1,
    });
  }
  const seeds = options.portals ?? [{ memberId: DEMO_MEMBER_ID, title: 'Demo portal' }];
  const servers: { close(): Promise<unknown> }[] = [];
  const closeAll = () => Promise.allSettled(servers.map((s) => s.close()));
  const shared: { portal: PortalState; port: number }[] = [];
  try {
    servers.push(await startOAuthServer(ctx, options.port ?? 0));
    for (const seed of seeds) {
      const portal = buildPortal({ latencyMs: options.latencyMs, ...seed }, clock.now());
      if (state.portals.has(portal.memberId)) throw new Error(`Duplicate member_id ${portal.memberId}`);
      state.portals.set(portal.memberId, portal);
      for (const clientId of state.apps.keys()) {
        const inst = state.installation(portal, clientId);
        inst.installed = seed.appsInstalled ?? true;
        inst.installFinished = inst.installed && (seed.installFinished ?? false);
      }
      if (options.sharedPortalHandler) shared.push({ portal, port: seed.port ?? 0 });
      else servers.push(await startPortalServer(ctx, portal, seed.port ?? 0));
    }
    if (shared.length) servers.push(await startSharedPortalServers(ctx, shared, options.firstPortalPort));
  } catch (e) {
    await closeAll();
    throw e;
  }

  const portalOf = (memberId?: string): PortalState =>
    state.portal(memberId ?? seeds[0]?.memberId ?? [...state.portals.keys()][0]!);
  const info = (p: PortalState): PortalInfo => ({
    memberId: p.memberId,
    domain: portalDomain(ctx, p),
    port: p.port,
    baseUrl: portalBase(ctx, p),
    editorUrl: `${portalBase(ctx, p)}/`,
    clientEndpoint: clientEndpoint(ctx, p),
    adminUserId: state.user(p).id,
    userIds: [...p.users.keys()],
  });
  const clientOf = (clientId?: string) => clientId ?? state.defaultClientId();

  return {
    /** Base URL of the OAuth server (like https://oauth.bitrix.info). */
    oauthUrl: oauthBase(ctx),
    oauthTokenUrl: `${oauthBase(ctx)}/oauth/token/`,
    serverEndpoint: serverEndpoint(ctx),
    portals: [...state.portals.values()].map(info),
    apps: [...state.apps.values()].map((a) => ({
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      scope: a.scope,
    })),
    clock,
    faults,
    limits: buckets.limits,
    state,
    stats: {
      snapshot: (): StatsData => stats.snapshot(),
      portal: (memberId?: string) => structuredClone(stats.portal(portalOf(memberId).memberId)),
      reset: () => stats.reset(),
    },
    portal: (memberId?: string): PortalInfo => info(portalOf(memberId)),
    /** Deep copy of a portal's state: apps (placements, events, options, installFinished), sites, pages, blocks... */
    inspect: (memberId?: string): PortalSnapshot => snapshotPortal(portalOf(memberId)),
    issueTokens: (memberId?: string, userId?: number, clientId?: string): TokenResponse => {
      const p = portalOf(memberId);
      return tokenResponse(ctx, state.issueTokens(p.memberId, clientOf(clientId), state.user(p, userId).id));
    },
    issueAuthCode: (memberId?: string, userId?: number, clientId?: string): string => {
      const p = portalOf(memberId);
      return state.issueAuthCode(p.memberId, clientOf(clientId), state.user(p, userId).id).code;
    },
    expireAccessToken: (token: string) => state.expireAccessToken(token),
    expireTokens: (memberId?: string) => state.expirePortalTokens(portalOf(memberId).memberId),
    /** Tokens of the app stop working and refresh answers invalid_grant, without an uninstall event. */
    revokeApp: (memberId?: string, clientId?: string) => {
      const p = portalOf(memberId);
      const inst = state.installation(p, clientOf(clientId));
      inst.installed = false;
      state.revokeAppTokens(p.memberId, inst.clientId);
    },
    /**
     * The app's registered URL changed (a developer edited the app card): install and app page
     * URLs and the host that handler URLs must match follow it. Without it, binding handlers on a
     * new PUBLIC_URL host is refused, as on a real portal.
     */
    setAppUrl: (appUrl: string, clientId?: string) => {
      new URL(appUrl);
      state.app(clientOf(clientId)).appUrl = appUrl;
    },
    finishInstall: (memberId?: string, clientId?: string) => {
      state.installation(portalOf(memberId), clientOf(clientId)).installFinished = true;
    },
    setMethodTime: (method: string, seconds: number) =>
      operating.methodTimes.set(method.toLowerCase(), seconds),
    /** Added latency of every REST and OAuth answer of one portal (or, without memberId, of all). */
    setLatency: (ms: number, memberId?: string) => {
      const targets = memberId === undefined ? [...state.portals.values()] : [portalOf(memberId)];
      for (const p of targets) p.latencyMs = ms;
      if (memberId === undefined) ctx.latencyMs = ms;
    },
    setDomainProvider: (memberId: string | undefined, on: boolean) => {
      portalOf(memberId).domainProvider = on;
    },
    /** Creates an incoming webhook; returns its REST base, e.g. http://127.0.0.1:p/rest/1/abc/. */
    /**
     * The portal's address changes (a rename): from now on it is served, and named by the OAuth
     * server's client_endpoint and by every frame's DOMAIN, on a new port. Its member_id stays
     * ("independent of the domain name": settings/oauth/simple-way.md). The old address keeps
     * answering, as a renamed portal's redirect would.
     */
    renamePortal: async (memberId?: string): Promise<PortalInfo> => {
      const p = portalOf(memberId);
      servers.push(await startPortalServer(ctx, p, 0));
      return info(p);
    },
    addWebhook: (memberId?: string, userId?: number): string => {
      const p = portalOf(memberId);
      const hook = { userId: state.user(p, userId).id, code: randomHex(8) };
      p.webhooks.push(hook);
      return `${clientEndpoint(ctx, p)}${hook.userId}/${hook.code}/`;
    },
    bucketLevel: (memberId?: string) => buckets.level(portalOf(memberId).memberId),
    resetLimits: () => {
      buckets.reset();
      operating.reset();
    },
    installApp: async (memberId?: string, o?: InstallFrameOptions) =>
      portalSide.installApp(ctx, portalOf(memberId), o),
    openPlacement: async (memberId: string | undefined, o: OpenPlacementOptions) =>
      portalSide.openPlacement(ctx, portalOf(memberId), o),
    /** Opens the app's own page (handler path, PLACEMENT=DEFAULT) as a user clicking the app does. */
    openApp: async (memberId?: string, o?: AppPageOptions) => portalSide.openApp(ctx, portalOf(memberId), o),
    uninstallApp: async (memberId?: string, o?: { clean?: boolean; clientId?: string }) =>
      portalSide.uninstallApp(ctx, portalOf(memberId), o),
    sendOnAppInstall: async (
      memberId: string | undefined,
      handlerUrl: string,
      o?: { clientId?: string; userId?: number },
    ) => portalSide.sendOnAppInstall(ctx, portalOf(memberId), handlerUrl, o),
    close: async (): Promise<void> => {
      await closeAll();
    },
  };
}

export type EmulatorHandle = Awaited<ReturnType<typeof startEmulator>>;
