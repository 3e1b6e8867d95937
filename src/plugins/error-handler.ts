import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Bitrix24Error, isBitrix24Error } from '../bitrix24/errors.js';
import { AppError } from '../errors.js';
import { resolveLang, translator } from '../i18n.js';
import { portalOrigin } from './security-headers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route renders pages: errors are answered with the error page, not JSON. */
    html?: boolean;
  }
}

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** Fastify's own 4xx errors (bad content type, body too large...) as our codes and sentences. */
function fromFastify(error: FastifyError): ErrorBody | null {
  const status = error.statusCode ?? 500;
  if (status >= 500) return null;
  const known: Record<string, string> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than this server accepts.',
    FST_ERR_CTP_INVALID_MEDIA_TYPE:
      'This content type is not accepted; send application/x-www-form-urlencoded or JSON.',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'The JSON body is empty.',
    FST_ERR_CTP_INVALID_JSON_BODY: 'The JSON body is not valid JSON.',
  };
  const code = error.code?.startsWith('FST_')
    ? error.code.replace(/^FST_ERR_(CTP_)?/, '').toLowerCase()
    : 'bad_request';
  return {
    statusCode: status,
    error: status === 429 ? 'rate_limited' : code,
    message: known[error.code] ?? (error.message || 'The request could not be processed.'),
  };
}

/** A Bitrix24 failure that reached the top: the portal's answer, as our status and a sentence. */
function fromBitrix24(error: Bitrix24Error): ErrorBody {
  const portal = `Bitrix24 answered ${error.code} to ${error.method}.`;
  switch (error.kind) {
    case 'rate_limit':
    case 'transient':
      return {
        statusCode: 503,
        error: 'portal_unavailable',
        message: `The portal is busy or unreachable. ${portal} Try again.`,
      };
    case 'reinstall':
      return {
        statusCode: 403,
        error: 'needs_reinstall',
        message: `The app has lost access to this portal. ${portal}`,
      };
    case 'auth':
      return {
        statusCode: 401,
        error: 'portal_auth_failed',
        message: `The portal did not accept the token. ${portal}`,
      };
    case 'access':
      return {
        statusCode: 403,
        error: 'portal_access_denied',
        message: `The portal refused this. ${portal}`,
      };
    default:
      return { statusCode: 502, error: 'portal_error', message: `The portal could not do this. ${portal}` };
  }
}

// Prisma's codes for "the database is not answering": unreachable, timed out, busy, closed.
const DATABASE_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** What the driver adapter says underneath a Prisma error, when it says anything. */
interface DriverCause {
  kind?: string;
  code?: string;
  originalCode?: string;
  severity?: string;
}

/** A failure of the database itself (not of the query): connection refused or lost, locked, shutting down. */
function databaseUnavailable(error: object): boolean {
  const { name, code, meta } = error as {
    name?: unknown;
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: DriverCause } };
  };
  if (name === 'PrismaClientInitializationError') return true;
  if (typeof name !== 'string' || !name.startsWith('PrismaClient')) return false;
  if (DATABASE_UNAVAILABLE.has(String(code))) return true;
  const cause = meta?.driverAdapterError?.cause;
  if (!cause) return false;
  return (
    cause.severity === 'FATAL' ||
    /^(08|57P0|53300)/.test(cause.code ?? '') ||
    cause.originalCode === 'SQLITE_BUSY' ||
    cause.originalCode === 'SQLITE_LOCKED' ||
    cause.kind === 'SocketTimeout' ||
    cause.kind === 'DatabaseNotReachable'
  );
}

function fromDatabase(error: unknown): ErrorBody | null {
  if (!error || typeof error !== 'object' || !databaseUnavailable(error)) return null;
  return {
    statusCode: 503,
    error: 'database_unavailable',
    message:
      'The app’s database is busy or unreachable right now. Nothing was changed; try again in a moment.',
  };
}

function describe(error: unknown): ErrorBody {
  if (error instanceof AppError)
    return { statusCode: error.statusCode, error: error.code, message: error.message };
  if (isBitrix24Error(error)) return fromBitrix24(error);
  const database = fromDatabase(error);
  if (database) return database;
  if (error instanceof SyntaxError && 'statusCode' in error) {
    return { statusCode: 400, error: 'invalid_body', message: 'The request body could not be parsed.' };
  }
  const fromFst = error && typeof error === 'object' ? fromFastify(error as FastifyError) : null;
  return (
    fromFst ?? {
      statusCode: 500,
      error: 'internal_error',
      message:
        'Something went wrong on our side. Please try again; if it keeps happening, tell the app administrator.',
    }
  );
}

function pick(source: unknown, key: string): string | undefined {
  const value = source && typeof source === 'object' ? (source as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export async function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  body: ErrorBody,
  details?: unknown,
) {
  reply.code(body.statusCode);
  if (request.routeOptions.config?.html) {
    // Bitrix24 sends LANG in the query (install) or the body (widgets).
    const lang = resolveLang(pick(request.body, 'LANG') ?? pick(request.query, 'LANG'));
    const t = translator(lang);
    // The error must be visible inside the portal's iframe: allow the origin the request names.
    const domain = pick(request.query, 'DOMAIN') ?? pick(request.body, 'DOMAIN');
    const protocol =
      (pick(request.query, 'PROTOCOL') ?? pick(request.body, 'PROTOCOL')) === '0' ? 'http' : 'https';
    const origin = domain ? portalOrigin(protocol, domain) : null;
    if (origin) reply.allowFraming(origin);
    const localized = t(`errors.${body.error}`);
    return reply.type('text/html; charset=utf-8').view('error', {
      ...body,
      // The catalog's sentence for this code when there is one; the specific detail after it.
      message: localized === `errors.${body.error}` ? body.message : localized,
      hint: localized === `errors.${body.error}` ? null : body.message,
      details,
      lang,
      t,
    });
  }
  return reply.send({ error: body.error, message: body.message, ...(details ? { details } : {}) });
}

export default fp(
  async (app) => {
    app.setErrorHandler(async (error, request, reply) => {
      const body = describe(error);
      if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: body.error, status: body.statusCode }, body.message);
      return sendError(request, reply, body, error instanceof AppError ? error.details : undefined);
    });
    app.setNotFoundHandler(async (request, reply) =>
      sendError(request, reply, {
        statusCode: 404,
        error: 'not_found',
        message: `There is nothing at ${request.method} ${request.url.split('?')[0]}.`,
      }),
    );
  },
  { name: 'error-handler', dependencies: ['views', 'security-headers'] },
);
