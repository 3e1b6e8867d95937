// Parent side of emulator-process.ts: starts the emulator in a child process and gives the
// benchmark a typed, async stand-in for the parts of EmulatorHandle it uses. The clients under
// test talk to the emulator over loopback HTTP as before; only the control calls use IPC (ipc.ts).
import { fileURLToPath } from 'node:url';
import type { PortalInfo, PortalStats, StatsData, TokenResponse } from 'bitrix24-emulator';
import { profileFlags } from './child.js';
import type { EmulatorCalls, EmulatorProcessOptions, EmulatorReady } from './emulator-protocol.js';
import { forkIpc } from './ipc.js';

export interface RemoteEmulator {
  readonly pid: number;
  readonly oauthUrl: string;
  readonly apps: EmulatorReady['apps'];
  /** The default (only) portal. */
  portal(): PortalInfo;
  issueTokens(): Promise<TokenResponse>;
  /** Every access token of the portal stops working; refresh tokens still do. */
  expireTokens(): Promise<void>;
  stats: {
    portal(): Promise<PortalStats>;
    oauth(): Promise<StatsData['oauth']>;
    /** CPU seconds the emulator process has used: near the wall time means it is the bottleneck. */
    cpuSeconds(): Promise<number>;
  };
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));

export async function startRemoteEmulator(options: EmulatorProcessOptions): Promise<RemoteEmulator> {
  const child = await forkIpc<EmulatorReady, EmulatorCalls>(SCRIPT, options, {
    name: 'emulator',
    startTimeoutMs: 30_000,
    // BENCH_PROFILE=<dir> writes the emulator's CPU profile there too.
    execArgv: profileFlags(),
  });
  const { ready } = child;
  return {
    pid: child.pid,
    oauthUrl: ready.oauthUrl,
    apps: ready.apps,
    portal: () => ready.portal,
    issueTokens: () => child.call('issueTokens'),
    expireTokens: () => child.call('expireTokens'),
    stats: {
      portal: () => child.call('portalStats'),
      oauth: () => child.call('oauthStats'),
      cpuSeconds: () => child.call('cpuSeconds'),
    },
    close: () => child.close(),
  };
}
