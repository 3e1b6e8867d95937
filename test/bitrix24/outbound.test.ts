// The app's HTTP client for Bitrix24 (undici's Dispatcher API, not fetch) against a real local
// server: what a caller reads of an answer, what the server receives, failures and aborts
// rejecting, redirects not followed, and connections neither leaked nor left unreused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/bitrix24/errors.js';
import { sendRestRequest } from '../../src/bitrix24/rest-transport.js';
import { createOutbound, type Outbound } from '../../src/plugins/outbound.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let handler: Handler = (_req, res) => res.end();
const received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
const sockets = new Set<Socket>();
let connections = 0;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  base = `http://127.0.0.1:${address.port}`;
});

let outbound: Outbound;
afterEach(async () => {
  // The server's side first: a request still pending (or a body left unread) cannot hold up close().
  await Promise.all(
    [...sockets].map((socket) => new Promise((resolve) => socket.destroy().once('close', resolve))),
  );
  await outbound?.close();
  received.length = 0;
  connections = 0;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function fresh(): Outbound {
  outbound = createOutbound(60_000);
  return outbound;
}

/** Resolves once the server has been asked (the request is in flight). */
function arrival(): { arrived: Promise<void>; served: (h: Handler) => Handler } {
  let arrived!: () => void;
  const promise = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  return {
    arrived: promise,
    served: (h) => (req, res, body) => {
      arrived();
      h(req, res, body);
    },
  };
}

describe('outbound answers', () => {
  it('a 200: status, ok, headers by any case, the text', async () => {
    handler = (_req, res, _body) =>
      res.writeHead(200, { 'content-type': 'application/json', 'x-b24-test': 'yes' }).end('{"result":1}');
    const answer = await fresh().fetch(`${base}/rest/app.info.json?x=1`, { method: 'GET' });
    expect(answer.status).toBe(200);
    expect(answer.ok).toBe(true);
    expect(answer.headers.get('Content-Type')).toBe('application/json');
    expect(answer.headers.get('x-b24-test')).toBe('yes');
    expect(answer.headers.get('x-absent')).toBeNull();
    expect(await answer.text()).toBe('{"result":1}');
    // Asked twice, the same text (counting-fetch and the caller may both read it).
    expect(await answer.text()).toBe('{"result":1}');
    expect(received.map((r) => [r.method, r.url])).toEqual([['GET', '/rest/app.info.json?x=1']]);
  });

  it('a 4xx and a 5xx: their status, not ok, their text', async () => {
    const o = fresh();
    handler = (_req, res) => res.writeHead(401).end('{"error":"expired_token"}');
    const refused = await o.fetch(`${base}/rest/app.info.json`, { method: 'POST', body: '{}' });
    expect([refused.status, refused.ok, await refused.text()]).toEqual([
      401,
      false,
      '{"error":"expired_token"}',
    ]);
    handler = (_req, res) => res.writeHead(503).end('<html>busy</html>');
    const busy = await o.fetch(`${base}/rest/app.info.json`, { method: 'POST', body: '{}' });
    expect([busy.status, busy.ok, await busy.text()]).toEqual([503, false, '<html>busy</html>']);
  });

  it('a JSON POST body arrives intact, with its content-type', async () => {
    handler = (_req, res) => res.end('{"result":true}');
    const body = JSON.stringify({ fields: { TITLE: 'Сайт ✓', list: [1, 2, 3] }, auth: 'token-123' });
    const answer = await fresh().fetch(`${base}/rest/landing.site.add.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    });
    expect(answer.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/rest/landing.site.add.json', body });
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers.accept).toBe('application/json');
    expect(received[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('a 302 is handed back as a 302, not followed', async () => {
    handler = (req, res) => {
      if (req.url === '/elsewhere') res.end('{"result":"followed"}');
      else res.writeHead(302, { location: `${base}/elsewhere` }).end();
    };
    const answer = await fresh().fetch(`${base}/rest/app.info.json`, {
      method: 'POST',
      body: '{"auth":"t"}',
    });
    expect(answer.status).toBe(302);
    expect(answer.ok).toBe(false);
    expect(answer.headers.get('location')).toBe(`${base}/elsewhere`);
    expect(received.map((r) => r.url)).toEqual(['/rest/app.info.json']);
  });
});

describe('outbound failures', () => {
  it('a refused connection rejects', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      fresh().fetch(`http://127.0.0.1:${port}/rest/app.info.json`, { method: 'GET' }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a server that never answers: rejects with the reason once the signal aborts', async () => {
    const { arrived, served } = arrival();
    handler = served(() => {}); // never answers
    const controller = new AbortController();
    const pending = fresh().fetch(`${base}/rest/app.info.json`, { method: 'GET', signal: controller.signal });
    const settled = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await arrived;
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await settled).toBe(reason);
  });

  it('an abort while the body is still arriving rejects, and the connection is closed', async () => {
    let firstChunk!: () => void;
    const written = new Promise<void>((resolve) => {
      firstChunk = resolve;
    });
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":[', () => firstChunk()); // and never the rest
    };
    const controller = new AbortController();
    const settled = fresh()
      .fetch(`${base}/rest/app.info.json`, { method: 'GET', signal: controller.signal })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    await written;
    expect(sockets.size).toBe(1);
    const [socket] = sockets;
    const closed = new Promise((resolve) => socket!.once('close', resolve));
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    controller.abort(reason);
    expect(await settled).toBe(reason);
    // Not left open half-read: undici drops the connection (the test times out if it never closes).
    await closed;
    expect(received).toHaveLength(1);
  });

  it('an already aborted signal rejects without asking', async () => {
    const reason = new Error('too late');
    await expect(
      fresh().fetch(`${base}/rest/app.info.json`, { method: 'GET', signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(received).toEqual([]);
  });
});

describe('outbound connections', () => {
  it('one idle connection serves request after request, whatever the status', async () => {
    const statuses = [200, 500, 404, 302, 200, 503];
    // Larger than a socket's buffers: a body left unread would hold its connection.
    const pad = ' '.repeat(1024 * 1024);
    let next = 0;
    handler = (_req, res) => res.writeHead(statuses[next++]!).end(`{"n":${next}}${pad}`);
    const o = fresh();
    const seen: number[] = [];
    for (let i = 0; i < statuses.length; i++) {
      const answer = await o.fetch(`${base}/rest/app.info.json`, { method: 'POST', body: '{}' });
      seen.push(answer.status);
      expect(await answer.text()).toBe(`{"n":${i + 1}}${pad}`);
      // Idle: undici marks the connection free just after the answer ends (with fetch too); a
      // request sent in that same moment would open a second connection.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(seen).toEqual(statuses);
    expect(connections).toBe(1);
  });
});

describe('sendRestRequest through the outbound client', () => {
  const request = (extra: { timeoutMs?: number; signal?: AbortSignal } = {}) => ({
    endpoint: `${base}/rest/`,
    method: 'app.info',
    params: {},
    accessToken: 'token-123',
    timeoutMs: extra.timeoutMs ?? 30_000,
    ...(extra.signal && { signal: extra.signal }),
  });

  it('no answer within the timeout: REQUEST_TIMEOUT', async () => {
    handler = () => {}; // never answers
    const error = await sendRestRequest(fresh().fetch, request({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'REQUEST_TIMEOUT', status: 0, method: 'app.info' });
  });

  it('the caller’s signal: its own reason, not a timeout', async () => {
    const { arrived, served } = arrival();
    handler = served(() => {});
    const controller = new AbortController();
    const settled = sendRestRequest(fresh().fetch, request({ signal: controller.signal })).catch(
      (e: unknown) => e,
    );
    await arrived;
    const reason = new Error('request handled elsewhere');
    controller.abort(reason);
    expect(await settled).toBe(reason);
  });

  it('a refused connection: NETWORK_ERROR', async () => {
    const error = await sendRestRequest(fresh().fetch, {
      ...request(),
      endpoint: 'http://127.0.0.1:9/rest/',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
  });

  it('the answer and the request body (auth in the body, as JSON)', async () => {
    handler = (_req, res) => res.writeHead(200).end('{"result":{"ID":7},"total":"3"}');
    expect(await sendRestRequest(fresh().fetch, request())).toMatchObject({ result: { ID: 7 }, total: 3 });
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: '/rest/app.info.json',
      body: '{"auth":"token-123"}',
    });
    expect(received[0]!.headers['content-type']).toBe('application/json');
  });
});
