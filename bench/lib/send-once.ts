// Every request exactly once through autocannon: lighter on this process than fetch, which
// matters when the emulator answering the app shares it.
import autocannon from 'autocannon';
import type { FormRequest } from './load.js';

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
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    amount: requests.length,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => {
          const r = requests[next++ % requests.length]!;
          return { ...request, path: r.path, body: r.body };
        },
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  return { ok: result['2xx'], failed };
}
