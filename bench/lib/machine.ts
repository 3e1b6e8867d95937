import { cpus, totalmem } from 'node:os';

/** The line every section of BENCHMARKS.md starts with: where and how it was measured. */
export function machineLine(command: string): string {
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return `Machine: ${cpus().length} cores (nproc), ${gib} GiB memory, Node ${process.version}. Command: \`${command}\`.`;
}

export const ratio = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
