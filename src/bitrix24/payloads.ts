// What Bitrix24 POSTs to the app: install and placement handlers (query + form body, the body
// winning) and events (bracketed keys). Validated here once; routes receive typed values.
import { z } from 'zod';
import { badRequest } from '../errors.js';

/**
 * A portal's host[:port], at most 255 characters. The length is checked first and alone (abort):
 * a huge value is refused before any other work and is never echoed back.
 */
export const portalDomain = z
  .string()
  .max(255, {
    message: 'must be a host name such as portal.bitrix24.com (at most 255 characters)',
    abort: true,
  })
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/,
    'must be a host name such as portal.bitrix24.com (at most 255 characters)',
  );
const domain = portalDomain;
const memberId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the portal member_id (letters and digits)');
const token = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{8,512}$/, 'must be an OAuth token');
const seconds = z.coerce
  .number({ error: 'must be a number of seconds' })
  .int()
  .min(0)
  .max(10 * 365 * 86400);
const protocol = z
  .enum(['0', '1'], { error: 'must be 0 (http) or 1 (https)' })
  .transform((v) => (v === '1' ? 'https' : 'http'));
const lang = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{2}(-[a-z]{2})?$/, 'must be a language code such as en')
  .default('en');
const appSid = z
  .string()
  .trim()
  .max(128)
  .regex(/^[A-Za-z0-9]*$/, 'must be letters and digits')
  .optional();
const text = (max: number) => z.string().trim().max(max);

/** PLACEMENT_OPTIONS arrives as a JSON string (escapes like `\/` included). */
const placementOptions = z
  .string()
  .max(8192)
  .default('')
  .transform((raw, ctx) => {
    if (raw.trim() === '') return {} as Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(raw);
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  });

/** The fields shared by the install handler and every placement handler. */
const frameFields = {
  DOMAIN: domain,
  PROTOCOL: protocol,
  LANG: lang,
  APP_SID: appSid,
  AUTH_ID: token,
  AUTH_EXPIRES: seconds,
  REFRESH_ID: token.optional(),
  member_id: memberId,
  status: text(8).optional(),
  PLACEMENT: text(128),
  PLACEMENT_OPTIONS: placementOptions,
  APPLICATION_SCOPE: text(1024).optional(),
  APPLICATION_TOKEN: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{1,128}$/, 'must be letters and digits')
    .optional(),
  SERVER_ENDPOINT: text(512).optional(),
};

export const installPayloadSchema = z.object({ ...frameFields, REFRESH_ID: token });
export type InstallPayload = z.output<typeof installPayloadSchema>;

/**
 * A widget open: only the fields the app acts on are read (and so validated); the rest of
 * Bitrix24's POST (APP_SID, APPLICATION_TOKEN, ...) is dropped unread, which also
 * keeps a portal user from planting an application token through a widget.
 */
export const placementPayloadSchema = z.object({
  DOMAIN: frameFields.DOMAIN,
  PROTOCOL: frameFields.PROTOCOL,
  LANG: frameFields.LANG,
  AUTH_ID: frameFields.AUTH_ID,
  AUTH_EXPIRES: frameFields.AUTH_EXPIRES,
  // Read only to heal an installation that lost its tokens (an administrator's visit).
  REFRESH_ID: frameFields.REFRESH_ID,
  member_id: frameFields.member_id,
  PLACEMENT: frameFields.PLACEMENT,
  PLACEMENT_OPTIONS: frameFields.PLACEMENT_OPTIONS,
});
export type PlacementPayload = z.output<typeof placementPayloadSchema>;

const eventAuth = z.object({
  access_token: token.optional(),
  refresh_token: token.optional(),
  /** A unix timestamp in events (the access token's end), unlike AUTH_EXPIRES. */
  expires: z.coerce.number({ error: 'must be a unix timestamp' }).int().min(0).max(1e11).optional(),
  expires_in: seconds.optional(),
  scope: text(1024).optional(),
  domain,
  server_endpoint: text(512).optional(),
  client_endpoint: text(512).optional(),
  status: text(8).optional(),
  member_id: memberId,
  user_id: z.coerce.number().int().min(0).optional(),
  application_token: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{1,128}$/, 'must be letters and digits'),
});

export const eventPayloadSchema = z.object({
  event: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9_]{1,64}$/, 'must be an event name such as ONAPPUNINSTALL'),
  event_handler_id: z.coerce.number().int().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  ts: z.coerce.number().int().min(0).optional(),
  auth: eventAuth,
});
export type EventPayload = z.output<typeof eventPayloadSchema>;

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Only own string-valued keys survive: bracket tricks and arrays cannot smuggle objects into a field. */
function copyStrings(value: unknown, into: Record<string, string>): Record<string, string> {
  const source = record(value);
  for (const key of Object.keys(source)) {
    const v = source[key];
    if (typeof v === 'string') into[key] = v;
  }
  return into;
}

const flatStrings = (value: unknown): Record<string, string> => copyStrings(value, {});

/** Merges query and body the way PHP's $_REQUEST does for Bitrix24 handlers: the body wins. */
export function mergeQueryAndBody(query: unknown, body: unknown): Record<string, string> {
  return copyStrings(body, copyStrings(query, {}));
}

/** Parses or throws a 400 that names each bad field; nothing has been touched yet. */
export function parsePayload<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => {
    const field = issue.path.map((p, i) => (i === 0 ? String(p) : `[${String(p)}]`)).join('') || 'body';
    // No other issue of these schemas has "undefined" in its message (docs/mutation.md).
    // Stryker disable next-line ConditionalExpression: `code === 'invalid_type'` → true is equivalent
    const missing = issue.code === 'invalid_type' && issue.message.includes('undefined');
    return { field, message: missing ? 'is missing' : issue.message };
  });
  const sentence = fields.map((f) => `${f.field} ${f.message}`).join('; ');
  throw badRequest('invalid_payload', `The ${what} is not valid: ${sentence}.`, { fields });
}

export function eventInput(body: unknown): unknown {
  const b = record(body);
  return { ...b, data: record(b.data), auth: flatStrings(b.auth) };
}
