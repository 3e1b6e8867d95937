import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDeadlineExceeded } from '../bitrix24/deadline.js';
import { type Bitrix24Error, isBitrix24Error, PaymentRequiredError } from '../bitrix24/errors.js';
import { AppError } from '../errors.js';
import { translator } from '../i18n.js';
import { errorFrame } from './error-frame.js';
import { retryAfterSeconds, statePage } from './error-states.js';

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
      if (error instanceof PaymentRequiredError) {
        return {
          statusCode: 403,
          error: 'payment_required',
          message: `The app’s subscription on this portal has expired; a portal administrator can renew it. ${portal}`,
        };
      }
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

/** The request's deadline passed (plugins/deadline.ts). 503: trying again later may work. */
function fromDeadline(error: unknown): ErrorBody | null {
  if (!isDeadlineExceeded(error)) return null;
  return {
    statusCode: 503,
    error: 'deadline_exceeded',
    message: `The page could not be completed within the ${error.budgetMs / 1000} s the app allows: the portal is slow or busy.`,
  };
}

function describe(error: unknown): ErrorBody {
  const late = fromDeadline(error);
  if (late) return late;
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

/** An install cut off by its deadline is finished by reloading the page (the install is recognised). */
function catalogKey(request: FastifyRequest, code: string): string {
  return code === 'deadline_exceeded' && request.routeOptions.url === '/install'
    ? 'errors.deadline_exceeded_install'
    : `errors.${code}`;
}

/** When a refused client may come back: the limiter's Retry-After, or the per-portal limiter's details. */
function retryAfter(reply: FastifyReply, details: unknown): number | null {
  const fromHeader = retryAfterSeconds(reply.getHeader('retry-after'));
  if (fromHeader !== null) return fromHeader;
  const own = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return retryAfterSeconds(own);
}

export async function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  body: ErrorBody,
  details?: unknown,
) {
  reply.code(body.statusCode);
  const wait = body.statusCode === 429 ? retryAfter(reply, details) : null;
  // Non-browser callers read when to come back from the header, whichever limiter refused them.
  if (wait !== null && !reply.hasHeader('retry-after')) reply.header('retry-after', String(wait));
  if (request.routeOptions.config?.html) {
    // The error must be visible inside the portal's iframe, in the user's language.
    const lookup = body.statusCode !== 429 && body.error !== 'shutting_down';
    const { lang, origin } = await errorFrame(request, lookup);
    const t = translator(lang);
    if (origin) reply.allowFraming(origin);
    const key = catalogKey(request, body.error);
    const localized = t(key);
    const { state, retry } = statePage(body.error, body.statusCode);
    return reply.type('text/html; charset=utf-8').view('error', {
      ...body,
      state,
      retry,
      retryAfter: wait,
      // The catalog's sentence for this code when there is one; the specific detail after it.
      message: localized === key ? body.message : localized,
      hint: localized === key || localized === body.message ? null : body.message,
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
      // Out of time or shutting down is the portal's or the operator's doing, not a fault here.
      if (body.error === 'deadline_exceeded' || body.error === 'shutting_down')
        request.log.warn({ code: body.error, status: body.statusCode, err: error }, body.message);
      else if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
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
