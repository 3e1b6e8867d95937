import type { DestinationStream, Logger } from 'pino';
import pino from 'pino';

/**
 * Every place a token or secret can appear in a logged object. Bitrix24 sends tokens as
 * AUTH_ID/REFRESH_ID (widgets, install) and auth[...] (events); the OAuth server answers
 * access_token/refresh_token.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-token"]',
  '*.AUTH_ID',
  '*.REFRESH_ID',
  '*.APPLICATION_TOKEN',
  '*.auth',
  '*.access_token',
  '*.refresh_token',
  '*.application_token',
  '*.accessToken',
  '*.refreshToken',
  '*.applicationToken',
  '*.client_secret',
  '*.clientSecret',
  '*.password',
  '*.token',
];

/** What Fastify logs as `res`: its reply (or, when refusing a request, a plain object). */
interface LoggedReply {
  statusCode: number;
  request?: { method: string; routeOptions?: { url?: string } };
}

/** The app's logger: redacts secrets and logs request paths without their query strings. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Not a spread of pino.stdSerializers: its `res` reads a Node ServerResponse, and given
    // Fastify's reply it logged every "request completed" with "statusCode":null.
    serializers: {
      err: pino.stdSerializers.err,
      // Query strings can carry auth=... (REST style); log the path only.
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        ip: req.ip,
      }),
      // With the route pattern, never the URL: it is bounded and carries no query or ids.
      res: (reply: LoggedReply) => ({
        statusCode: reply.statusCode,
        method: reply.request?.method,
        route: reply.request?.routeOptions?.url ?? null,
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
