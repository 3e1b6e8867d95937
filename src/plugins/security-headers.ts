import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { FRAMING_ORIGIN } from '../bitrix24/portal-origin.js';

declare module 'fastify' {
  interface FastifyReply {
    /** Lets exactly this portal origin frame the page (widget and install pages). */
    allowFraming(origin: string): FastifyReply;
  }
}

/** Scripts only from us (the SDK is served from node_modules); no inline script anywhere. */
function csp(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/**
 * The headers helmet would set, worked out once: they are the same on every response, and
 * helmet's middleware chain per request showed in widget-open profiles. helmet still decides
 * the policy; we only replay its answer.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    // Header names are case-insensitive (Fastify lowercases them); helmet removes only
    // X-Powered-By, which this response never has: no test can tell these apart (docs/mutation.md).
    setHeader(name: string, value: unknown) {
      // Stryker disable next-line MethodExpression: equivalent, as above
      headers[name.toLowerCase()] = String(value);
    },
    // Stryker disable next-line BlockStatement: equivalent, as above
    removeHeader(name: string) {
      // Stryker disable next-line MethodExpression: equivalent, as above
      delete headers[name.toLowerCase()];
    },
  };
  // Stryker disable next-line BooleanLiteral: helmet is synchronous today; no test can make it otherwise
  let done = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {
    done = true;
  });
  // helmet's middleware is synchronous today; if that ever changes, fail at start-up, not later.
  // Stryker disable next-line ConditionalExpression: as `done` above
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}

export default fp(
  async (app) => {
    const staticHeaders = helmetHeaders({
      // Set per reply below; X-Frame-Options cannot name an origin, CSP frame-ancestors can.
      frameguard: false,
      // Stryker disable next-line BooleanLiteral: helmet's CSP would be replaced on every response (onRequest below)
      contentSecurityPolicy: false,
      // Pages are embedded cross-origin in the portal; these would block that.
      crossOriginEmbedderPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    const noFraming = csp("'none'");
    // Built once per portal origin, not per page (bounded: a portal with more origins is odd).
    const framing = new Map<string, string>();
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(staticHeaders);
      reply.header('content-security-policy', noFraming);
      done();
    });
    app.decorateReply('allowFraming', function allowFraming(origin: string) {
      // Only a plain, bounded origin becomes a header; anything else keeps frame-ancestors 'none'.
      if (!FRAMING_ORIGIN.test(origin)) return this;
      let policy = framing.get(origin);
      // A memo: rebuilding or forgetting a policy changes no header, only work and memory.
      // Stryker disable next-line ConditionalExpression: equivalent, as above
      if (policy === undefined) {
        policy = csp(origin);
        // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, as above
        if (framing.size >= 10_000) framing.clear();
        framing.set(origin, policy);
      }
      this.header('content-security-policy', policy);
      return this;
    });
  },
  { name: 'security-headers' },
);
