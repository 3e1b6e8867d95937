// Preloaded into the app process under test (node --expose-gc --import this-file): on SIGUSR2
// it runs a full garbage collection and writes process.memoryUsage() to $BENCH_HEAP_FILE. RSS
// alone cannot tell a leak from V8 letting garbage pile up before it collects; the heap that
// survives a full collection can. Plain JavaScript: it loads before tsx is registered.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_HEAP_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    // Written whole, then renamed: the reader never sees half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
    renameSync(`${file}.tmp`, file);
  });
}
