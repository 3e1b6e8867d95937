import { createServer } from 'node:net';

// Ports come from below the kernel's ephemeral range (32768+ on Linux), so a port we pick here
// is never the one the OS hands to an emulator listening on port 0 or to an outgoing
// connection between our check and the app's listen (CI once lost a run to that race), nor one
// an emulator with thousands of portals takes (they count up from 20000: bench/lib/scale.ts).
// Picked at random so that concurrent test processes rarely try the same one; never twice in a
// process.
const LOW = 10_000;
const HIGH = 20_000;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback port (the app's PUBLIC_URL must be known before it listens). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in ${LOW}..${HIGH - 1}`);
}
