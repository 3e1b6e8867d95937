// A progress bar on stderr for commands that visit many portals; off when stderr is not a
// terminal (CI, cron, pipes), where it would only fill logs with control characters.
import { Presets, SingleBar } from 'cli-progress';
import type { CliStreams } from './io.js';

export interface Progress {
  /** One portal done; `failed` counts it in the bar's failure tally. */
  tick(failed: boolean): void;
  stop(): void;
}

export function startProgress(io: CliStreams, label: string, total: number): Progress {
  if (!io.stderr.isTTY || total < 2) return { tick() {}, stop() {} };
  const bar = new SingleBar(
    {
      stream: io.stderr,
      format: `${label} [{bar}] {value}/{total} portals, {failed} failed, {duration}s`,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let failed = 0;
  bar.start(total, 0, { failed });
  return {
    tick(didFail) {
      if (didFail) failed += 1;
      bar.increment(1, { failed });
    },
    stop() {
      bar.stop();
    },
  };
}
