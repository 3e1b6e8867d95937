import { createServer } from 'node:net';

// Ports come from below the kernel's ephemeral range (32768+ on Linux), so a port we pick here
// is never the one the OS hands to an emulator listening on port 0 or to an outgoing
// connection between our check and the app's listen (CI once lost a run to that race).
// Each vitest worker (VITEST_POOL_ID) gets its own slice, so workers never pick the same one.
const SLICE = 400;
const BASE = 20_000;
const slice = Number(process.env.VITEST_POOL_ID ?? process.pid % 16) % 30;
let next = 0;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port (the app's PUBLIC_URL must be known before it listens). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = BASE + slice * SLICE + (next++ % SLICE);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${BASE + slice * SLICE}..${BASE + (slice + 1) * SLICE - 1}`);
}
