import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

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

/** `https://portal.bitrix24.com` from DOMAIN and PROTOCOL, or null when it is not a plain origin. */
export function portalOrigin(protocol: 'http' | 'https', domain: string): string | null {
  try {
    const url = new URL(`${protocol}://${domain}`);
    return url.host === domain.toLowerCase() ? url.origin : null;
  } catch {
    return null;
  }
}

export default fp(
  async (app) => {
    await app.register(helmet, {
      // Set per reply below; X-Frame-Options cannot name an origin, CSP frame-ancestors can.
      frameguard: false,
      contentSecurityPolicy: false,
      // Pages are embedded cross-origin in the portal; these would block that.
      crossOriginEmbedderPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('content-security-policy', csp("'none'"));
    });
    app.decorateReply('allowFraming', function allowFraming(origin: string) {
      this.header('content-security-policy', csp(origin));
      return this;
    });
  },
  { name: 'security-headers' },
);
