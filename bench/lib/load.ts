// autocannon (programmatic) against one server on loopback, cycling through real payloads.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface FormRequest {
  path: string;
  body: string;
}

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
  /** CPU time the server process spent per request (µs): steadier than req/s on a busy machine. */
  cpuMicrosPerRequest: number;
}

/** User + system CPU time of a process so far, in µs (Linux /proc; clock ticks are 10 ms). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10_000;
}

export interface DriveOptions {
  connections: number;
  seconds: number;
  /** Run first and thrown away: JIT, template and connection-pool warm-up. */
  warmupSeconds?: number;
}

/** autocannon's request list: form POSTs cycling through `requests` in order. */
export function cyclingPosts(requests: FormRequest[]): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest: (request) => {
        const r = requests[next++ % requests.length]!;
        return { ...request, path: r.path, body: r.body };
      },
    },
  ];
}

function run(url: string, requests: FormRequest[], connections: number, seconds: number) {
  return autocannon({ url, connections, duration: seconds, requests: cyclingPosts(requests) });
}

export async function drive(
  url: string,
  requests: FormRequest[],
  options: DriveOptions,
  serverPid?: number,
): Promise<Measured> {
  if (options.warmupSeconds) await run(url, requests, options.connections, options.warmupSeconds);
  const cpuBefore = serverPid ? processCpuMicros(serverPid) : 0;
  const result = await run(url, requests, options.connections, options.seconds);
  const cpu = serverPid ? processCpuMicros(serverPid) - cpuBefore : Number.NaN;
  return {
    cpuMicrosPerRequest: cpu / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}
