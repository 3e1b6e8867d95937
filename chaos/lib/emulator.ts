// Harness side of emulator-process.ts: starts the emulator in a child process and gives typed,
// async access to its calls (over bench/lib/ipc.ts).
import { fileURLToPath } from 'node:url';
import { forkIpc, type Remote } from '../../bench/lib/ipc.js';
import type { CallName, Calls, EmulatorProcessOptions, Ready } from './protocol.js';

export type ChaosEmulator = Ready & {
  call: { [K in CallName]: Remote<Calls[K]> };
  close(): Promise<void>;
};

const SCRIPT = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));

const CALLS: CallName[] = [
  'installForm',
  'finishInstall',
  'expireTokens',
  'upstream',
  'oauth',
  'openPlacement',
];

export async function startChaosEmulator(options: EmulatorProcessOptions): Promise<ChaosEmulator> {
  const child = await forkIpc<Ready, Calls>(SCRIPT, options, { name: 'emulator', startTimeoutMs: 60_000 });
  // One function a name; ChaosEmulator['call'] gives each its arguments and result.
  const invoke = child.call as (name: CallName, ...args: unknown[]) => Promise<unknown>;
  const call = Object.fromEntries(
    CALLS.map((name) => [name, (...args: unknown[]) => invoke(name, ...args)]),
  ) as ChaosEmulator['call'];
  return {
    oauthUrl: child.ready.oauthUrl,
    app: child.ready.app,
    portals: child.ready.portals,
    call,
    close: () => child.close(),
  };
}
