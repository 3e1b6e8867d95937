// A process driven over IPC, both sides. The parent forks a TypeScript script with its options
// (JSON on the command line), waits for its ready message, then makes numbered calls and gets
// numbered replies; the child answers them and shuts down when the parent disconnects (or dies).
// Only plain JSON crosses. The benchmarks' and the chaos harness's emulators run this way
// (emulator-remote.ts, chaos/lib/emulator.ts), so a busy measuring process never delays them.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';

/** What a child answers: call name → function of JSON arguments to a JSON result (or its promise). */
export type CallsOf<C> = { [K in keyof C]: (...args: never[]) => unknown };

type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** A call as the parent sees it: the same arguments, the result when the reply comes. */
export type Remote<F> = (...args: Args<F>) => Promise<Result<F>>;

interface ReadyMessage<Ready> {
  type: 'ready';
  value: Ready;
}

interface Request {
  id: number;
  call: string;
  args: unknown[];
}

type Reply =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export interface IpcProcess<Ready, C extends CallsOf<C>> {
  readonly pid: number;
  /** What the child sent once it was ready. */
  readonly ready: Ready;
  call<K extends keyof C & string>(name: K, ...args: Args<C[K]>): Promise<Result<C[K]>>;
  /** Disconnects; the child closes what it runs and exits. */
  close(): Promise<void>;
}

export interface ForkOptions {
  /** Names the process in errors ("emulator process exited …"). */
  name: string;
  startTimeoutMs: number;
  /** Node flags besides the tsx loader. */
  execArgv?: string[];
}

function waitReady<Ready>(child: ChildProcess, { name, startTimeoutMs }: ForkOptions): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} process did not start within ${startTimeoutMs / 1000} s`)),
      startTimeoutMs,
    );
    const onMessage = (message: ReadyMessage<Ready> | Reply) => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve(message.value);
    };
    const onExit = (code: number | null) =>
      fail(new Error(`${name} process exited (${code}) before it was ready`));
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

/** Parent side: forks `script` (run through tsx) and resolves once it is ready. */
export async function forkIpc<Ready, C extends CallsOf<C>>(
  script: string,
  options: unknown,
  spec: ForkOptions,
): Promise<IpcProcess<Ready, C>> {
  const child = fork(script, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx', ...(spec.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitReady<Ready>(child, spec);

  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: ReadyMessage<Ready> | Reply) => {
    if (message.type !== 'reply') return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(`${spec.name}: ${message.error}`));
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${spec.name} process exited (${code})`));
    pending.clear();
  });

  return {
    pid: child.pid ?? -1,
    ready,
    call: (name, ...args) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, call: name, args } satisfies Request);
      }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect(); // the child closes what it runs and exits
      await exited;
    },
  };
}

/** Child side: the options the parent passed to forkIpc. */
export function ipcOptions<O>(): O {
  return JSON.parse(process.argv[2] ?? '{}') as O;
}

/**
 * Child side: answers the parent's calls, tells it `ready`, and on disconnect (the parent closed
 * or died) runs `close`, then exits.
 */
export function serveIpc<Ready, C extends CallsOf<C>>(
  calls: { [K in keyof C]: (...args: Args<C[K]>) => Result<C[K]> | Promise<Result<C[K]>> },
  ready: Ready,
  close: () => Promise<unknown>,
): void {
  const send = (message: ReadyMessage<Ready> | Reply) => process.send?.(message);
  process.on('message', async (message: Request) => {
    try {
      const value = await (calls[message.call as keyof C] as (...args: unknown[]) => unknown)(
        ...message.args,
      );
      send({ type: 'reply', id: message.id, ok: true, value });
    } catch (error) {
      send({ type: 'reply', id: message.id, ok: false, error: String(error) });
    }
  });
  process.once('disconnect', () => {
    close().finally(() => process.exit(0));
  });
  send({ type: 'ready', value: ready });
}
