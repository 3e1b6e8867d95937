// The HTTP client for every request to Bitrix24 (REST and OAuth): one undici Agent of our
// own instead of Node's global one. An app talks to thousands of portals, one origin each;
// Node 20's bundled undici (6.x) keeps a connection pool per origin forever (about 16 KiB
// each, measured in the memory benchmark), undici 7 drops a pool once its connections close.
// Idle connections are closed after a few seconds: a portal is asked a few times a minute at
// most, and an open socket per portal would hold memory and file descriptors for nothing.
import fp from 'fastify-plugin';
import { Agent, fetch as undiciFetch } from 'undici';

declare module 'fastify' {
  interface FastifyInstance {
    /** fetch through the app's own connection pools (the metrics plugin may wrap it). */
    bitrix24Fetch: typeof fetch;
  }
}

export const IDLE_CONNECTION_MS = 4_000;

export interface Outbound {
  fetch: typeof fetch;
  /** Origins with a connection pool right now (what the memory benchmark watched grow). */
  origins(): string[];
  close(): Promise<void>;
}

export function createOutbound(idleMs = IDLE_CONNECTION_MS): Outbound {
  const agent = new Agent({
    keepAliveTimeout: idleMs,
    // A portal's Keep-Alive hint may shorten this, never stretch it.
    keepAliveMaxTimeout: idleMs,
  });
  const outbound = (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    });
  return {
    fetch: outbound as unknown as typeof fetch,
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
