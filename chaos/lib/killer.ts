// kill -9 at a random moment of a batch: after the app has made `k` requests to the emulator
// (OAuth + REST; k drawn by the seeded RNG over the batch's expected count) and a further
// random few milliseconds. Counting the app's own upstream requests lands the kill inside the
// batch's work on a fast or a slow machine alike; a batch that ends first is killed at its end.
import type { AppProcess } from './app.js';
import type { ChaosEmulator } from './emulator.js';
import type { Rng } from './rng.js';

export interface KillPlan {
  /** Upstream requests after which the kill comes. */
  afterUpstream: number;
  /** Of this many the batch is expected to make. */
  expected: number;
  jitterMs: number;
}

export interface KillRecord extends KillPlan {
  /** Upstream requests the app had made when it died. */
  atUpstream: number;
  /** The batch had finished before the trigger: the kill came after it. */
  afterBatch: boolean;
  /** Since the batch started. */
  atMs: number;
}

export const planKill = (rng: Rng, expected: number): KillPlan => {
  const n = Math.max(1, Math.round(expected));
  return { afterUpstream: rng.int(1, n), expected: n, jitterMs: rng.int(0, 25) };
};

export async function killDuring(
  emulator: ChaosEmulator,
  app: AppProcess,
  plan: KillPlan,
  base: number,
  started: number,
  batch: Promise<unknown>,
): Promise<KillRecord> {
  let finished = false;
  void batch.finally(() => {
    finished = true;
  });
  let seen = 0;
  while (!finished) {
    seen = (await emulator.call.upstream()) - base;
    if (seen >= plan.afterUpstream) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const afterBatch = finished;
  if (!afterBatch && plan.jitterMs) await new Promise((r) => setTimeout(r, plan.jitterMs));
  await app.kill9();
  const atUpstream = (await emulator.call.upstream()) - base;
  return { ...plan, atUpstream, afterBatch, atMs: Math.round(performance.now() - started) };
}
