// The whole configuration, read once from the environment and validated with zod.
import { z } from 'zod';
import { parseKey } from './key-text.js';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .default('false')
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const url = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .trim()
    .min(1, `is required: ${what}`)
    .refine((v) => /^https?:\/\/[^/]+/.test(v), 'must be an http(s) URL, e.g. https://app.example.com')
    .transform((v) => v.replace(/\/+$/, ''));

const key = z
  .string()
  .trim()
  .refine((v) => {
    try {
      parseKey(v);
      return true;
    } catch {
      return false;
    }
  }, 'must be 32 bytes as 64 hex characters or base64 (generate one: openssl rand -hex 32)');

/** An optional shared secret: long enough that guessing it through the rate limit is hopeless. */
const secret = z
  .string()
  .trim()
  .default('')
  .refine(
    (v) => v === '' || v.length >= 16,
    'must be at least 16 characters (generate one: openssl rand -hex 32)',
  )
  .transform((v) => v || null);

/** A comma-separated variable (empty unless a default is given), each item checked by `item`. */
function commaList<T extends z.ZodType<unknown, string>>(item: T, fallback = '') {
  return z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0)
    .max(65535)
    .default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .trim()
    .default('file:./data/app.db')
    .refine(
      (v) => v.startsWith('file:') || /^postgres(ql)?:\/\//.test(v),
      'must start with file: (SQLite) or postgresql:// (PostgreSQL)',
    ),
  PUBLIC_URL: url("the app's public base URL that Bitrix24 calls, e.g. https://b24app.example.com"),
  B24_CLIENT_ID: z
    .string({ error: 'is required: the app client_id from the Bitrix24 app registration' })
    .trim()
    .min(1),
  B24_CLIENT_SECRET: z
    .string({ error: 'is required: the app client_secret from the Bitrix24 app registration' })
    .trim()
    .min(1),
  B24_OAUTH_URL: url('the OAuth server').default('https://oauth.bitrix.info'),
  /**
   * The OAuth servers a portal may name in SERVER_ENDPOINT / auth[server_endpoint], as base URLs
   * (bitrix24-protocol.md: both are Bitrix24's). A portal naming any other is refused.
   */
  B24_OAUTH_SERVERS: commaList(
    url('an OAuth server base URL'),
    'https://oauth.bitrix.info,https://oauth.bitrix24.tech',
  ),
  B24_ALLOW_HTTP: bool,
  /** Extra block codes bound as LANDING_BLOCK_<CODE>, comma-separated. */
  B24_BLOCK_CODES: commaList(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, 'block codes may contain letters, digits, _ . - only'),
  ),
  B24_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(50),
  B24_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(2),
  /**
   * Where each portal's bucket is kept: `shared` (one row per portal in PostgreSQL, spent by every
   * process on the database) or `per-process`. Default: shared on PostgreSQL, per-process on SQLite.
   */
  B24_RATE_BUDGET: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.enum(['shared', 'per-process'], { error: 'must be shared or per-process' }).optional(),
  ),
  /** Bitrix24 refresh tokens die after this many days unused (current docs: 180). */
  B24_REFRESH_TOKEN_LIFETIME_DAYS: z.coerce.number().int().positive().default(180),
  /** The keep-alive job refreshes tokens this many days before they would die. */
  B24_KEEPALIVE_DAYS: z.coerce.number().int().positive().default(30),
  /** Minutes between keep-alive runs; 0 turns the job off. */
  B24_KEEPALIVE_INTERVAL_MINUTES: z.coerce.number().int().min(0).default(60),
  // Empty (as .env.example leaves it) means unset: SQLite outside production then uses a key file.
  TOKEN_ENCRYPTION_KEY: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    key.optional(),
  ),
  TOKEN_ENCRYPTION_KEY_PREVIOUS: commaList(key),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** Requests per minute from one client address, on every route but /healthz. */
  RATE_LIMIT_PER_IP: z.coerce.number().int().positive().default(600),
  /** Requests per minute naming one portal (member_id), on install, event and widget routes. */
  RATE_LIMIT_PER_PORTAL: z.coerce.number().int().positive().default(300),
  /** Trust X-Forwarded-For from a reverse proxy: true, a hop count, or addresses (comma-separated). */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string[] => {
      if (v === 'true') return true;
      if (v === 'false' || v === '') return false;
      return /^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim());
    }),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** One time limit per interactive request (install, widget open and action) for all its portal calls. */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(100).default(15_000),
  /** Turns on /admin and protects it; empty = no admin page (404). */
  ADMIN_TOKEN: secret,
  METRICS_ENABLED: bool,
  /** When set, /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: secret,
  /** How long SIGTERM waits for in-flight requests before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(25_000),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: string;
  databaseUrl: string;
  publicUrl: string;
  bitrix24: {
    clientId: string;
    clientSecret: string;
    oauthUrl: string;
    /** Origins of the OAuth servers a portal may name (B24_OAUTH_SERVERS plus B24_OAUTH_URL). */
    oauthServers: string[];
    allowHttp: boolean;
    blockCodes: string[];
    /** The portal's bucket (X, Y); `shared`: kept in PostgreSQL for every process, else in memory. */
    rateLimit: { burst: number; perSecond: number; shared: boolean };
    /** Token keep-alive: refresh `days` before `lifetimeDays`, every `intervalMs` (0 = off). */
    keepAlive: { lifetimeDays: number; days: number; intervalMs: number };
  };
  tokenEncryptionKey: Buffer | null;
  previousTokenEncryptionKeys: Buffer[];
  bodyLimitBytes: number;
  rateLimit: { perIpPerMinute: number; perPortalPerMinute: number };
  trustProxy: boolean | number | string[];
  requestTimeoutMs: number;
  requestDeadlineMs: number;
  adminToken: string | null;
  metrics: { enabled: boolean; token: string | null };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Builds the config from environment variables; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production' && !e.TOKEN_ENCRYPTION_KEY) {
    problems.push('TOKEN_ENCRYPTION_KEY is required in production (generate one: openssl rand -hex 32)');
  } else if (!e.TOKEN_ENCRYPTION_KEY && !e.DATABASE_URL.startsWith('file:')) {
    // Without it, SQLite gets a key file beside the database (key-file.ts); processes sharing a
    // PostgreSQL database may run on different machines, so they need the variable.
    problems.push(
      'TOKEN_ENCRYPTION_KEY is required with PostgreSQL: every app process must use the same key (generate one: openssl rand -hex 32)',
    );
  }
  if (!e.B24_ALLOW_HTTP && e.PUBLIC_URL.startsWith('http://') && e.NODE_ENV === 'production') {
    problems.push('PUBLIC_URL must be https:// in production (Bitrix24 portals load it in an https page)');
  }
  // The server's own socket limits must outlast the deadline, or the connection closes before our page.
  if (e.REQUEST_DEADLINE_MS >= e.REQUEST_TIMEOUT_MS) {
    problems.push('REQUEST_DEADLINE_MS must be smaller than REQUEST_TIMEOUT_MS');
  }
  if (e.B24_KEEPALIVE_DAYS >= e.B24_REFRESH_TOKEN_LIFETIME_DAYS) {
    problems.push('B24_KEEPALIVE_DAYS must be less than B24_REFRESH_TOKEN_LIFETIME_DAYS');
  }
  const onSqlite = e.DATABASE_URL.startsWith('file:');
  if (e.B24_RATE_BUDGET === 'shared' && onSqlite) {
    problems.push('B24_RATE_BUDGET=shared needs PostgreSQL (SQLite serves a single process)');
  }
  const publicHost = publicUrlHostProblem(e.PUBLIC_URL);
  if (publicHost) problems.push(publicHost);
  if (problems.length) throw new ConfigError(problems);
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    publicUrl: e.PUBLIC_URL,
    bitrix24: {
      clientId: e.B24_CLIENT_ID,
      clientSecret: e.B24_CLIENT_SECRET,
      oauthUrl: e.B24_OAUTH_URL,
      oauthServers: [...new Set([...e.B24_OAUTH_SERVERS, e.B24_OAUTH_URL].map((u) => new URL(u).origin))],
      allowHttp: e.B24_ALLOW_HTTP,
      blockCodes: e.B24_BLOCK_CODES,
      rateLimit: {
        burst: e.B24_RATE_LIMIT_BURST,
        perSecond: e.B24_RATE_LIMIT_PER_SECOND,
        shared: (e.B24_RATE_BUDGET ?? (onSqlite ? 'per-process' : 'shared')) === 'shared',
      },
      keepAlive: {
        lifetimeDays: e.B24_REFRESH_TOKEN_LIFETIME_DAYS,
        days: e.B24_KEEPALIVE_DAYS,
        intervalMs: e.B24_KEEPALIVE_INTERVAL_MINUTES * 60_000,
      },
    },
    tokenEncryptionKey: e.TOKEN_ENCRYPTION_KEY ? parseKey(e.TOKEN_ENCRYPTION_KEY) : null,
    previousTokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEY_PREVIOUS.map(parseKey),
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rateLimit: { perIpPerMinute: e.RATE_LIMIT_PER_IP, perPortalPerMinute: e.RATE_LIMIT_PER_PORTAL },
    trustProxy: e.TRUST_PROXY,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    adminToken: e.ADMIN_TOKEN,
    metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}

/**
 * Bitrix24 refuses placement and event handlers whose host has no dot ("localhost") with
 * PLACEMENT_HANDLER_INVALID (the protocol notes, "Handler URLs"), and every handler we bind
 * lives under PUBLIC_URL: such a PUBLIC_URL can never finish an install.
 */
export function publicUrlHostProblem(publicUrl: string): string | null {
  const { hostname } = new URL(publicUrl);
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host.includes('.') && !host.endsWith('.')) return null;
  return `PUBLIC_URL host "${host}" has no dot: Bitrix24 refuses handlers on such a host (use 127.0.0.1 instead of localhost, or a real domain name)`;
}
