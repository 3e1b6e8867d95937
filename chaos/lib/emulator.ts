// Harness side of emulator-process.ts: starts the emulator in a child process and gives typed,
// async access to its calls.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CallName, Calls, EmulatorProcessOptions, Ready, Reply, Request } from './protocol.js';

type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

export type ChaosEmulator = Omit<Ready, 'type'> & {
  call: { [K in CallName]: Async<Calls[K]> };
  close(): Promise<void>;
};

const SCRIPT = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));

function waitReady(child: ChildProcess): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('emulator process did not start within 60 s'));
    }, 60_000);
    child.on('message', (message: Ready | Reply) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator process exited (${code}) before it was ready`));
    });
  });
}

export async function startChaosEmulator(options: EmulatorProcessOptions): Promise<ChaosEmulator> {
  const child = fork(SCRIPT, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitReady(child);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: Ready | Reply) => {
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
  const invoke =
    (name: CallName) =>
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, call: name, args } satisfies Request);
      });
  const names: CallName[] = [
    'installForm',
    'finishInstall',
    'expireTokens',
    'upstream',
    'oauth',
    'openPlacement',
  ];
  const call = Object.fromEntries(names.map((n) => [n, invoke(n)])) as ChaosEmulator['call'];
  return {
    oauthUrl: ready.oauthUrl,
    app: ready.app,
    portals: ready.portals,
    call,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
