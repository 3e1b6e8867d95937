// The doctor's checks, each answering in findings: one line each, and for a problem what to do.
import { type Config, publicUrlHostProblem } from '../../config.js';
import type { Db } from '../../db/client.js';
import { migrationStatus } from '../../db/migrate.js';
import { redactUrl } from '../../db/url.js';
import { createCipher, keyId } from '../../installations/cipher.js';
import { KeyFileError, keyFilePath, resolveTokenKey } from '../../installations/key-file.js';

export type Outcome = 'ok' | 'fail' | 'skip' | 'info';

export interface Finding {
  outcome: Outcome;
  check: string;
  text: string;
}

const ok = (check: string, text: string): Finding => ({ outcome: 'ok', check, text });
const fail = (check: string, text: string): Finding => ({ outcome: 'fail', check, text });

const SEALED = 'enc:v1:';

/** Reachable and migrated; `ready` tells the later checks whether they may query the tables. */
export async function checkDatabase(config: Config): Promise<{ finding: Finding; ready: boolean }> {
  const where = redactUrl(config.databaseUrl);
  try {
    const status = await migrationStatus(config.databaseUrl);
    if (status.pending.length) {
      return {
        ready: false,
        finding: fail(
          'database',
          `${where}: ${status.pending.length} migration(s) not applied (${status.pending.join(', ')}): run npm run db:migrate (the app also applies them when it starts)`,
        ),
      };
    }
    return {
      ready: true,
      finding: ok('database', `${where}: reachable, ${status.applied.length} migration(s) applied`),
    };
  } catch (error) {
    const message = (error as Error).message;
    const hint = /does not exist/.test(message)
      ? 'start the app once or run npm run db:migrate to create it'
      : 'check DATABASE_URL and that the database server runs';
    return { ready: false, finding: fail('database', `${message}: ${hint}`) };
  }
}

/** A key exists, and it (or a previous key) opens every stored secret; none is plaintext. */
export async function checkTokenKey(config: Config, db: Db | null): Promise<Finding> {
  let key: ReturnType<typeof resolveTokenKey>;
  const stored = db ? await storedSecrets(db) : [];
  try {
    key = resolveTokenKey(config, { create: false });
  } catch (error) {
    const message = (error as Error).message;
    // No key file yet and nothing sealed: the app creates it on its first start.
    if (error instanceof KeyFileError && error.notCreatedYet) {
      if (!stored.length) return ok('token key', message);
      return fail(
        'token key',
        `no TOKEN_ENCRYPTION_KEY and no key file, but ${stored.length} sealed token value(s) are stored: restore the key file ${keyFilePath(config.databaseUrl)} from your backup, or set TOKEN_ENCRYPTION_KEY to the key they were sealed with`,
      );
    }
    return fail('token key', message);
  }
  const from =
    key.source === 'environment'
      ? 'TOKEN_ENCRYPTION_KEY'
      : key.source === 'file'
        ? `key file ${key.path}`
        : 'in memory';
  if (!db)
    return ok(
      'token key',
      `${from} (key id ${keyId(key.key)}); stored tokens not checked (database not ready)`,
    );
  const cipher = createCipher(key.key, config.previousTokenEncryptionKeys);
  let plaintext = 0;
  const unreadable = new Set<string>();
  for (const { owner, value } of stored) {
    if (!value.startsWith(SEALED)) {
      plaintext++;
      continue;
    }
    try {
      cipher.open(value);
    } catch {
      unreadable.add(owner);
    }
  }
  if (unreadable.size) {
    return fail(
      'token key',
      `${from} (key id ${keyId(key.key)}) cannot decrypt the stored tokens of ${unreadable.size} portal(s): set TOKEN_ENCRYPTION_KEY to the key they were sealed with, or add that key to TOKEN_ENCRYPTION_KEY_PREVIOUS`,
    );
  }
  if (plaintext) {
    return fail(
      'token key',
      `${plaintext} stored token value(s) are plaintext (written before encryption): run npm run cli -- rotate-key with TOKEN_ENCRYPTION_KEY set`,
    );
  }
  return ok(
    'token key',
    `${from} (key id ${keyId(key.key)}) decrypts all ${stored.length} stored token value(s)`,
  );
}

async function storedSecrets(db: Db): Promise<{ owner: string; value: string }[]> {
  const tokens = await db.oAuthToken.findMany({
    select: { accessToken: true, refreshToken: true, installation: { select: { memberId: true } } },
  });
  const apps = await db.installation.findMany({
    where: { applicationToken: { not: null } },
    select: { memberId: true, applicationToken: true },
  });
  return [
    ...tokens.flatMap((t) => [
      { owner: t.installation.memberId, value: t.accessToken },
      { owner: t.installation.memberId, value: t.refreshToken },
    ]),
    ...apps.map((a) => ({ owner: a.memberId, value: a.applicationToken ?? '' })),
  ];
}

/** https (Bitrix24 opens the app inside its https page) and a host Bitrix24 accepts for handlers. */
export function checkPublicUrl(config: Config): Finding {
  const url = new URL(config.publicUrl);
  const problems: string[] = [];
  const httpAccepted = config.bitrix24.allowHttp && config.env !== 'production';
  if (url.protocol !== 'https:' && !httpAccepted) {
    problems.push(
      `PUBLIC_URL ${config.publicUrl} must be https:// (Bitrix24 opens the app inside an https page): put the app behind TLS`,
    );
  }
  const host = publicUrlHostProblem(config.publicUrl);
  if (host) problems.push(host);
  if (problems.length) return fail('public url', problems.join('; '));
  const note = url.protocol === 'https:' ? '' : ' (http accepted: B24_ALLOW_HTTP=true, emulator only)';
  return ok('public url', `${config.publicUrl}${note}`);
}

/** Every OAuth server the app refreshes tokens with; another module may add more to the config. */
export function oauthServers(config: Config): string[] {
  const extra = (config.bitrix24 as { oauthServers?: unknown }).oauthServers;
  const urls = [config.bitrix24.oauthUrl];
  if (Array.isArray(extra)) {
    for (const item of extra) {
      const url = typeof item === 'string' ? item : (item as { url?: unknown })?.url;
      if (typeof url === 'string') urls.push(url);
    }
  }
  return [...new Set(urls.map((u) => u.replace(/\/+$/, '')))];
}

/** Any HTTP answer proves the server reachable: the token endpoint refuses a bare GET by design. */
export async function checkOAuthServer(url: string, timeoutMs: number): Promise<Finding> {
  const started = Date.now();
  try {
    const res = await fetch(`${url}/oauth/token/`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.body?.cancel();
    return ok('oauth server', `${url} answered (HTTP ${res.status}) in ${Date.now() - started} ms`);
  } catch (error) {
    return fail(
      'oauth server',
      `${url} is not reachable (${reason(error)}): allow outbound https from this host to it (tokens cannot be refreshed otherwise)`,
    );
  }
}

/**
 * The app's own /healthz as Bitrix24 would reach it. Not running yet is no problem (the doctor
 * runs before the first start too); answering badly, or being another app, is.
 */
export async function checkHealthz(config: Config, provider: string, timeoutMs: number): Promise<Finding> {
  const url = `${config.publicUrl}/healthz`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    return {
      outcome: 'skip',
      check: 'healthz',
      text: `${url} not reachable from here (${reason(error)}); checked once the app runs`,
    };
  }
  const body = await res.text().catch(() => '');
  if (res.status !== 200) {
    return fail(
      'healthz',
      `${url} answered HTTP ${res.status}: look at the app's log (503: its database) or the proxy in front of it`,
    );
  }
  let database: unknown;
  try {
    database = (JSON.parse(body) as { database?: unknown }).database;
  } catch {
    database = undefined;
  }
  if (database !== provider) {
    return fail(
      'healthz',
      `${url} answered, but not as this app on ${provider} (${database ? `it uses ${String(database)}` : 'not our health answer'}): PUBLIC_URL must route to this deployment`,
    );
  }
  return ok('healthz', `${url}: ok (${provider})`);
}

export async function installationSummary(db: Db): Promise<Finding> {
  const groups = await db.installation.groupBy({ by: ['status'], _count: { _all: true } });
  if (!groups.length) return { outcome: 'info', check: 'installations', text: 'none yet' };
  const parts = groups
    .sort((a, b) => a.status.localeCompare(b.status))
    .map((g) => `${g._count._all} ${g.status}`);
  const needs = groups.some((g) => g.status === 'needs_reinstall');
  return {
    outcome: 'info',
    check: 'installations',
    text: `${parts.join(', ')}${needs ? ' (npm run cli -- check lists the portals to reinstall)' : ''}`,
  };
}

function reason(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
