// Requests to many portals must not leave a connection pool behind for each one: an app that
// serves 10,000 portals would otherwise hold 10,000 pools for good.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOutbound } from '../../src/plugins/outbound.js';

const servers: Server[] = [];
const urls: string[] = [];
beforeAll(async () => {
  for (let i = 0; i < 5; i++) {
    const server = createServer((_req, res) => res.end('{"result":true}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const address = server.address();
    if (address && typeof address === 'object')
      urls.push(`http://127.0.0.1:${address.port}/rest/app.info.json`);
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('outbound HTTP client', () => {
  it('drops a portal’s connection pool once its idle connections close', async () => {
    const outbound = createOutbound(100);
    for (const url of urls) {
      const answer = await outbound.fetch(url, { method: 'GET' });
      expect(JSON.parse(await answer.text())).toEqual({ result: true });
    }
    expect(outbound.origins()).toHaveLength(5);
    // Polled, not a fixed sleep: undici's idle timer is its own (no clock seam) and fires late
    // on a loaded machine; the assertion is that it fires at all.
    await vi.waitFor(() => expect(outbound.origins()).toEqual([]), { timeout: 10_000, interval: 20 });
    // And a later request simply opens a new one.
    expect((await outbound.fetch(urls[0]!, { method: 'GET' })).status).toBe(200);
    expect(outbound.origins()).toHaveLength(1);
    await outbound.close();
  });
});
