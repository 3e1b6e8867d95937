// Every request exactly once through autocannon: lighter on this process than fetch, which
// matters when the emulator answering the app shares it.
import autocannon from 'autocannon';
import { cyclingPosts, type FormRequest } from './load.js';

export interface SentOnce {
  ok: number;
  /** Non-2xx answers, errors and timeouts. */
  failed: number;
}

export async function sendEachOnce(
  url: string,
  requests: FormRequest[],
  connections: number,
): Promise<SentOnce> {
  const result = await autocannon({
    url,
    // autocannon refuses more connections than requests (small BENCH_SCALE runs).
    connections: Math.min(connections, requests.length),
    amount: requests.length,
    timeout: 30,
    requests: cyclingPosts(requests),
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  return { ok: result['2xx'], failed };
}
