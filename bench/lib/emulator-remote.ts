// Parent side of emulator-process.ts: starts the emulator in a child process and gives the
// benchmark a typed, async stand-in for the parts of EmulatorHandle it uses. The clients under
// test talk to the emulator over loopback HTTP as before; only the control calls use IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PortalInfo, PortalStats, StatsData, TokenResponse } from 'bitrix24-emulator';
import { profileFlags } from './child.js';
import type {
  EmulatorCall,
  EmulatorCalls,
  EmulatorProcessOptions,
  EmulatorReady,
  EmulatorReply,
  EmulatorRequest,
} from './emulator-protocol.js';

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
const START_TIMEOUT_MS = 30_000;

function waitReady(child: ChildProcess): Promise<EmulatorReady> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error('emulator process did not start in time')),
      START_TIMEOUT_MS,
    );
    const onMessage = (message: EmulatorReady | EmulatorReply) => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => fail(new Error(`emulator process exited (${code}) before ready`));
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const fail = (error: Error) => {
      cleanup();
      child.kill();
      reject(error);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function startRemoteEmulator(options: EmulatorProcessOptions): Promise<RemoteEmulator> {
  const child = fork(SCRIPT, [JSON.stringify(options)], {
    // BENCH_PROFILE=<dir> writes the emulator's CPU profile there too.
    execArgv: ['--import', 'tsx', ...profileFlags()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitReady(child);

  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: EmulatorReady | EmulatorReply) => {
    if (message.type !== 'reply') return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(`emulator: ${message.error}`));
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`emulator process exited (${code})`));
    pending.clear();
  });
  const call = <K extends EmulatorCall>(name: K): Promise<EmulatorCalls[K]> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, call: name } satisfies EmulatorRequest);
    });

  return {
    pid: child.pid ?? -1,
    oauthUrl: ready.oauthUrl,
    apps: ready.apps,
    portal: () => ready.portal,
    issueTokens: () => call('issueTokens'),
    expireTokens: () => call('expireTokens'),
    stats: {
      portal: () => call('portalStats'),
      oauth: () => call('oauthStats'),
      cpuSeconds: () => call('cpuSeconds'),
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect(); // the child closes its servers and exits
      await exited;
    },
  };
}
