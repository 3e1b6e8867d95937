// The IPC contract between a benchmark and an emulator running in a child process
// (emulator-process.ts serves it, emulator-remote.ts calls it). Only what the benchmarks
// read from the handle crosses the wire; everything is plain JSON.
import type { BucketLimits, PortalInfo, PortalStats, StatsData, TokenResponse } from 'bitrix24-emulator';

/** Options the child gets on its command line (JSON). */
export interface EmulatorProcessOptions {
  limits: BucketLimits;
}

/** Sent once, when the emulator listens. */
export interface EmulatorReady {
  type: 'ready';
  oauthUrl: string;
  portal: PortalInfo;
  apps: { clientId: string; clientSecret: string; scope: string }[];
}

/** The calls a benchmark makes on the default portal, with their results. */
export interface EmulatorCalls {
  issueTokens: TokenResponse;
  expireTokens: undefined;
  portalStats: PortalStats;
  oauthStats: StatsData['oauth'];
  /** CPU time the emulator process has used (user + system, seconds). */
  cpuSeconds: number;
}

export type EmulatorCall = keyof EmulatorCalls;

export interface EmulatorRequest {
  id: number;
  call: EmulatorCall;
}

export type EmulatorReply =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };
