// Live heap of an app process started with heapProbeFlags(): the bytes that survive a full
// garbage collection, asked for by signal (see heap-probe.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const heapProbeFlags = (): string[] => [
  '--expose-gc',
  '--import',
  join(import.meta.dirname, 'heap-probe.mjs'),
];

/** Signals the process and waits for its answer; MiB of heap used after a full collection. */
export async function liveHeapMiB(pid: number, file: string): Promise<number> {
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(file)) continue;
    const answer = JSON.parse(readFileSync(file, 'utf8')) as { at: number; heapUsed: number };
    if (answer.at >= asked) return answer.heapUsed / 2 ** 20;
  }
  throw new Error(`process ${pid} did not report its heap`);
}
