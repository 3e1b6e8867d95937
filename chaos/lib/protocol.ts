// The calls between the chaos harness and its emulator process (emulator-process.ts serves them,
// emulator.ts makes them, over bench/lib/ipc.ts). Only plain JSON crosses: the harness never
// shares an event loop (or a crash) with the portals.

/** A form POST as a browser would send it: the action URL's path + query, and the urlencoded body. */
export interface FormPost {
  /** Path and query (DOMAIN, PROTOCOL, LANG, APP_SID), to be sent to an app base URL. */
  path: string;
  body: string;
}

export interface ChaosPortal {
  memberId: string;
  domain: string;
  adminUserId: number;
}

export interface EmulatorProcessOptions {
  /** Portals the run uses, all created (not installed) at start. */
  memberIds: string[];
  limits: { bucketSize: number; drainPerSecond: number };
  /** Access token lifetime in seconds (the app refreshes 60 s before expiry). */
  accessTokenTtl?: number;
}

/** Sent once, when the emulator listens. */
export interface Ready {
  oauthUrl: string;
  app: { clientId: string; clientSecret: string };
  portals: ChaosPortal[];
}

/** Calls and their results; arguments are positional JSON. */
export interface Calls {
  /** The portal's install form for the admin, captured instead of posted (see emulator-process.ts). */
  installForm(memberId: string): FormPost;
  /** installFinish() from the install page's JS. */
  finishInstall(memberIds: string[]): void;
  /** Every token of these portals stops working (refresh tokens still do). */
  expireTokens(memberIds: string[]): void;
  /** Requests the app made to the emulator so far (OAuth + REST), for kill triggers. */
  upstream(): number;
  oauth(): { requests: number; refreshRequests: number; refreshFailures: number };
  /** A user opens a widget: the emulator posts it to the bound handler and reports the answer. */
  openPlacement(
    memberId: string,
    placement: string,
    userId?: number,
  ): { status: number; body: string; form: FormPost };
}

export type CallName = keyof Calls;
