// The scale benchmarks (install, refresh storm, memory) shrink with BENCH_SCALE=0.1 for a smoke
// run: the machine is shared, and a full run takes minutes.
export const SCALE = Number(process.env.BENCH_SCALE ?? 1);

if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);

/** `n` scaled by BENCH_SCALE, at least `min`. */
export const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));

/** The command line that reproduced this run (the BENCH_* switches that were set), for the machine line. */
export function benchCommand(): string {
  const switches = ['BENCH_SCALE', 'BENCH_ONLY', 'BENCH_MEMORY_PORTALS']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]} `);
  return `${switches.join('')}npm run bench`;
}

/**
 * Emulator options for thousands of portals: one request handler for all of them, ports counted
 * up from below the kernel's ephemeral range (see packages/bitrix24-emulator/README.md).
 */
export const MANY_PORTALS = { sharedPortalHandler: true, firstPortalPort: 20_000 } as const;
