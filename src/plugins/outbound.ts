// The HTTP client for every request to Bitrix24 (REST and OAuth): one undici Agent of our
// own instead of Node's global one. An app talks to thousands of portals, one origin each;
// Node 20's bundled undici (6.x) keeps a connection pool per origin forever (about 16 KiB
// each, measured in the memory benchmark), undici 7 drops a pool once its connections close.
// Idle connections are closed after a few seconds: a portal is asked a few times a minute at
// most, and an open socket per portal would hold memory and file descriptors for nothing.
//
// Requests go through undici's Dispatcher API (`agent.request`), not its WHATWG fetch: the
// fetch layer (Request/Response/Headers objects, webidl checks, a web stream per body) cost
// about a tenth of the app's CPU in the install benchmark for the same HTTP work.
//
// Redirects are not followed (fetch followed them by default): an answer 3xx is handed to the
// caller as it is, which reads it as an unexpected (not JSON) answer. A REST request carries
// the access token in its body and an OAuth request its secrets in the URL; a 307/308 would
// send them on to wherever the Location points. No caller relies on a redirect (the emulator
// sends none; a renamed portal is re-pinned from the OAuth server's client_endpoint).
import type { IncomingHttpHeaders } from 'node:http';
import fp from 'fastify-plugin';
import { Agent } from 'undici';
import type { HttpAnswer, HttpFetch, HttpRequestInit } from '../bitrix24/http.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Requests through the app's own connection pools (the metrics plugin may wrap it). */
    bitrix24Fetch: HttpFetch;
  }
}

export const IDLE_CONNECTION_MS = 4_000;

export interface Outbound {
  fetch: HttpFetch;
  /** Origins with a connection pool right now (what the memory benchmark watched grow). */
  origins(): string[];
  close(): Promise<void>;
}

/** An answer whose body has been read: its text is kept, asked for as often as wanted. */
function answer(status: number, headers: IncomingHttpHeaders, text: string): HttpAnswer {
  return {
    status,
    ok: status >= 200 && status <= 299,
    headers: {
      get(name) {
        const value = headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: () => Promise.resolve(text),
  };
}

export function createOutbound(idleMs = IDLE_CONNECTION_MS): Outbound {
  const agent = new Agent({
    keepAliveTimeout: idleMs,
    // A portal's Keep-Alive hint may shorten this, never stretch it.
    keepAliveMaxTimeout: idleMs,
  });
  const send: HttpFetch = async (url: string, init: HttpRequestInit) => {
    const { signal } = init;
    try {
      const { origin, pathname, search } = new URL(url);
      const { statusCode, headers, body } = await agent.request({
        origin,
        path: `${pathname}${search}`,
        method: init.method,
        ...(init.headers && { headers: init.headers }),
        ...(init.body !== undefined && { body: init.body }),
        ...(signal && { signal }),
      });
      // Read here, once, whatever the caller does next: a body left unread would hold its
      // connection. undici destroys the body (and the socket) when the read fails or the
      // signal aborts it; destroy() again is a no-op then, and covers any other failure.
      try {
        return answer(statusCode, headers, await body.text());
      } catch (error) {
        body.destroy();
        throw error;
      }
    } catch (error) {
      // An abort rejects with the signal's reason (a TimeoutError from a timeout), as fetch did.
      throw signal?.aborted ? signal.reason : error;
    }
  };
  return {
    fetch: send,
    origins: () => Object.keys(agent.stats),
    close: () => agent.close(),
  };
}

export default fp(
  async (app) => {
    const outbound = createOutbound();
    app.decorate('bitrix24Fetch', outbound.fetch);
    app.addHook('onClose', async () => outbound.close());
  },
  { name: 'outbound' },
);
