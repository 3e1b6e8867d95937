/** In-memory state of the emulated portals. Values that Bitrix24 returns as strings are kept as numbers here and formatted on output. */

export interface AppRegistration {
  clientId: string;
  clientSecret: string;
  /** Fixed APP_SID; when absent every opened frame gets a fresh one, as in Bitrix24. */
  appSid?: string;
  /** Base URL of the app (install URL = appUrl + installPath). */
  appUrl?: string;
  installPath?: string;
  /** The app's own page ("handler path"), opened after installFinish; default "/". */
  handlerPath?: string;
  /** Comma-separated REST scopes granted to the app. */
  scope: string;
  /** Application type letter: L local, F free, P paid, ... */
  status: string;
  version: number;
}

export interface UserState {
  id: number;
  name: string;
  lastName: string;
  email: string;
  admin: boolean;
  /** 'full' may create/modify/delete sites; 'read' may only view them. */
  landingRights: 'full' | 'read';
}

export interface PlacementBinding {
  id: number;
  clientId: string;
  placement: string;
  handler: string;
  title: string;
  createdAt: number;
}

export interface EventBinding {
  clientId: string;
  event: string;
  handler: string;
  authType: number;
  offline: boolean;
}

export interface AppInstallation {
  clientId: string;
  /** False after uninstall or revoke: the app's tokens stop working. */
  installed: boolean;
  /** installFinish() was signalled; placements are shown only after that. */
  installFinished: boolean;
  applicationToken: string;
  options: Record<string, unknown>;
  userOptions: Record<number, Record<string, unknown>>;
  placements: PlacementBinding[];
  events: EventBinding[];
}

export interface SiteState {
  id: number;
  code: string;
  title: string;
  type: string;
  active: boolean;
  deleted: boolean;
  description: string;
  xmlId: string;
  domainId: number;
  createdBy: number;
  modifiedBy: number;
  createdAt: number;
  modifiedAt: number;
}

export interface PageState {
  id: number;
  siteId: number;
  code: string;
  title: string;
  active: boolean;
  deleted: boolean;
  folder: boolean;
  description: string;
  xmlId: string;
  createdBy: number;
  modifiedBy: number;
  createdAt: number;
  modifiedAt: number;
}

export interface BlockState {
  id: number;
  pageId: number;
  code: string;
  name: string;
  active: boolean;
  deleted: boolean;
  sort: number;
  /** HTML the editor shows for the block. */
  content: string;
  refreshCount: number;
  createdAt: number;
  modifiedAt: number;
}

export interface SyspageBinding {
  siteId: number;
  type: string;
  landingId: number;
}

export interface WebhookState {
  userId: number;
  code: string;
}

/** Something the editor page or an app frame did; kept for test assertions. */
export interface FrameEvent {
  at: number;
  frameId: string;
  clientId: string;
  command: string;
  params: unknown;
}

export interface RefreshedBlock {
  at: number;
  blockId: number;
  source: 'frame' | 'rest';
}

export interface PortalState {
  memberId: string;
  title: string;
  lang: string;
  license: string;
  /** When true, landing.site.markDelete answers ACCESS_DENIED_DELETED. */
  domainProvider: boolean;
  /** Added before every REST and OAuth answer for this portal: a real portal is 50-300 ms away. */
  latencyMs: number;
  users: Map<number, UserState>;
  apps: Map<string, AppInstallation>;
  sites: Map<number, SiteState>;
  pages: Map<number, PageState>;
  blocks: Map<number, BlockState>;
  syspages: SyspageBinding[];
  webhooks: WebhookState[];
  frameEvents: FrameEvent[];
  refreshedBlocks: RefreshedBlock[];
  placementCalls: { at: number; clientId: string; command: string; params: unknown }[];
  nextId: number;
  /** Filled in when the portal's server is listening. */
  port: number;
}

export interface AccessToken {
  token: string;
  memberId: string;
  clientId: string;
  userId: number;
  expiresAt: number;
  revoked: boolean;
  refreshToken: string;
}

export interface RefreshToken {
  token: string;
  memberId: string;
  clientId: string;
  userId: number;
  expiresAt: number;
  used: boolean;
  revoked: boolean;
  accessToken: string;
}

export interface AuthCode {
  code: string;
  memberId: string;
  clientId: string;
  userId: number;
  expiresAt: number;
  used: boolean;
}

/** What the parent window answers to the SDK's getInitData. */
export interface InitData {
  DOMAIN: string;
  PROTOCOL: number;
  PATH: string;
  LANG: string;
  MEMBER_ID: string;
  IS_ADMIN: boolean;
  AUTH_ID: string;
  REFRESH_ID: string;
  AUTH_EXPIRES: number;
  APP_OPTIONS: Record<string, unknown> | [];
  USER_OPTIONS: Record<string, unknown> | [];
  PLACEMENT: string;
  PLACEMENT_OPTIONS: Record<string, string>;
  INSTALL: boolean;
  FIRST_RUN: boolean;
}

/** A form POST into an app iframe: DOMAIN/PROTOCOL/LANG/APP_SID in the query, the rest in the body. */
export interface FramePayload {
  frameId: string;
  memberId: string;
  clientId: string;
  userId: number;
  appSid: string;
  /** `DOMAIN|PROTOCOL|APP_SID`, the iframe's name the SDK reads. */
  iframeName: string;
  /** Handler URL with the query string appended. */
  action: string;
  query: Record<string, string>;
  /** Body fields in Bitrix24's order. */
  body: [string, string][];
  init: InitData;
}
