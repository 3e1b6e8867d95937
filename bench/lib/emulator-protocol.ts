// The calls between a benchmark and an emulator running in a child process (emulator-process.ts
// serves them, emulator-remote.ts makes them, over ipc.ts). Only what the benchmarks read from
// the handle crosses the wire; everything is plain JSON.
import type { BucketLimits, PortalInfo, PortalStats, StatsData, TokenResponse } from 'bitrix24-emulator';

/** Options the child gets on its command line (JSON). */
export interface EmulatorProcessOptions {
  limits: BucketLimits;
}

/** Sent once, when the emulator listens. */
export interface EmulatorReady {
  oauthUrl: string;
  portal: PortalInfo;
  apps: { clientId: string; clientSecret: string; scope: string }[];
}

/** The calls a benchmark makes on the default portal, with their results. */
export interface EmulatorCalls {
  issueTokens(): TokenResponse;
  expireTokens(): void;
  portalStats(): PortalStats;
  oauthStats(): StatsData['oauth'];
  /** CPU time the emulator process has used (user + system, seconds). */
  cpuSeconds(): number;
}
