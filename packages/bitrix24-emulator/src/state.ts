import type { Clock } from './clock.js';
import { randomHex } from './seed.js';
import type {
  AccessToken,
  AppInstallation,
  AppRegistration,
  AuthCode,
  PortalState,
  RefreshToken,
  UserState,
} from './types.js';

// Refresh token: 180 days (settings/oauth/index.md, settings/oauth/auto-renewal.md); code: 30 s (settings/oauth/index.md).
export const REFRESH_TOKEN_TTL = 180 * 24 * 3600;
const AUTH_CODE_TTL = 30;

export interface IssuedTokens {
  access: AccessToken;
  refresh: RefreshToken;
}

/** All portals, apps and tokens; shared by the OAuth server and every portal server. */
export class EmulatorState {
  readonly apps = new Map<string, AppRegistration>();
  readonly portals = new Map<string, PortalState>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  readonly authCodes = new Map<string, AuthCode>();

  constructor(
    readonly clock: Clock,
    readonly accessTokenTtl: number,
  ) {}

  portal(memberId: string): PortalState {
    const p = this.portals.get(memberId);
    if (!p) throw new Error(`Unknown portal member_id ${memberId}`);
    return p;
  }

  app(clientId: string): AppRegistration {
    const a = this.apps.get(clientId);
    if (!a) throw new Error(`Unknown app client_id ${clientId}`);
    return a;
  }

  defaultClientId(): string {
    const first = this.apps.keys().next();
    if (first.done) throw new Error('No app is registered');
    return first.value;
  }

  user(portal: PortalState, userId?: number): UserState {
    const u =
      userId === undefined ? [...portal.users.values()].find((x) => x.admin) : portal.users.get(userId);
    if (!u) throw new Error(`Unknown user ${userId} on portal ${portal.memberId}`);
    return u;
  }

  /** The app's record on a portal, created (not installed) on first use. */
  installation(portal: PortalState, clientId: string): AppInstallation {
    let inst = portal.apps.get(clientId);
    if (!inst) {
      inst = {
        clientId,
        installed: false,
        installFinished: false,
        applicationToken: randomHex(16),
        options: {},
        userOptions: {},
        placements: [],
        events: [],
      };
      portal.apps.set(clientId, inst);
    }
    return inst;
  }

  issueTokens(memberId: string, clientId: string, userId: number): IssuedTokens {
    const portal = this.portal(memberId);
    this.app(clientId);
    this.user(portal, userId);
    if (!this.installation(portal, clientId).installed) {
      throw new Error(`App ${clientId} is not installed on portal ${memberId}`);
    }
    const now = this.clock.now();
    const access: AccessToken = {
      token: randomHex(35),
      memberId,
      clientId,
      userId,
      expiresAt: now + this.accessTokenTtl * 1000,
      revoked: false,
      refreshToken: '',
    };
    const refresh: RefreshToken = {
      token: randomHex(35),
      memberId,
      clientId,
      userId,
      expiresAt: now + REFRESH_TOKEN_TTL * 1000,
      used: false,
      revoked: false,
      accessToken: access.token,
    };
    access.refreshToken = refresh.token;
    this.accessTokens.set(access.token, access);
    this.refreshTokens.set(refresh.token, refresh);
    return { access, refresh };
  }

  issueAuthCode(memberId: string, clientId: string, userId: number): AuthCode {
    const code: AuthCode = {
      code: randomHex(35),
      memberId,
      clientId,
      userId,
      expiresAt: this.clock.now() + AUTH_CODE_TTL * 1000,
      used: false,
    };
    this.authCodes.set(code.code, code);
    return code;
  }

  /** Every token of the app on the portal stops working (uninstall, revoke). */
  revokeAppTokens(memberId: string, clientId: string): void {
    for (const t of this.accessTokens.values()) {
      if (t.memberId === memberId && t.clientId === clientId) t.revoked = true;
    }
    for (const t of this.refreshTokens.values()) {
      if (t.memberId === memberId && t.clientId === clientId) t.revoked = true;
    }
  }

  expireAccessToken(token: string): void {
    const t = this.accessTokens.get(token);
    if (!t) throw new Error('Unknown access token');
    t.expiresAt = Math.min(t.expiresAt, this.clock.now() - 1000);
  }

  expirePortalTokens(memberId: string): void {
    const past = this.clock.now() - 1000;
    for (const t of this.accessTokens.values()) {
      if (t.memberId === memberId) t.expiresAt = Math.min(t.expiresAt, past);
    }
  }

  nextId(portal: PortalState): number {
    return portal.nextId++;
  }
}
