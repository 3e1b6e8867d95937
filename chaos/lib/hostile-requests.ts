// Forged and garbage requests for every route of the app, generated on the fly from a seeded
// RNG: unique portal ids, hosts and tokens (anything the app might key a cache or a limiter by),
// oversized and deeply nested fields, wrong content types, broken JSON, tampered page contexts,
// and well-formed forgeries naming real portals with tokens Bitrix24 never issued.
import type { Rng } from './rng.js';

export interface HostileRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface KnownPortal {
  memberId: string;
  domain: string;
  /** A genuine signed page context of this portal (tampered before use). */
  ctx: string;
}

export const ROUTES = [
  'POST /install',
  'POST /events',
  'POST /placements/settings',
  'POST /placements/settings/action',
  'POST /placements/block',
  'POST /placements/block/action',
  'POST /',
  'POST /app/action',
  'GET /',
  'GET /healthz',
] as const;
export type Route = (typeof ROUTES)[number];

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const word = (rng: Rng, n: number) =>
  Array.from({ length: n }, () => ALNUM[rng.int(0, ALNUM.length - 1)]).join('');
const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
const qs = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** A well-formed frame POST (install, widget, app page) with forged identity and tokens. */
function forgedFrame(rng: Rng, known: KnownPortal[], placement: string, options: string) {
  const real = rng.next() < 0.1 ? rng.pick(known) : null;
  const domain = real?.domain ?? `${word(rng, 8).toLowerCase()}.bitrix24.test`;
  const query = {
    DOMAIN: domain,
    PROTOCOL: rng.next() < 0.5 ? '0' : '1',
    LANG: rng.pick(['en', 'ru', 'de', 'xx']),
    APP_SID: word(rng, 16),
  };
  const body: Record<string, string> = {
    AUTH_ID: word(rng, 40),
    AUTH_EXPIRES: '3600',
    REFRESH_ID: word(rng, 40),
    member_id: real?.memberId ?? hex(rng, 32),
    status: 'L',
    PLACEMENT: placement,
    PLACEMENT_OPTIONS: options,
  };
  if (placement === 'DEFAULT') {
    body.APPLICATION_TOKEN = hex(rng, 32);
    // Off the allowlist, or absent (the default OAuth server answers invalid_grant).
    if (rng.next() < 0.5) body.SERVER_ENDPOINT = `https://${word(rng, 6)}.example/rest/`;
  }
  return { query: qs(query), body: qs(body) };
}

/** Garbage every route gets a share of. */
function garbage(rng: Rng, path: string, known: KnownPortal[]): HostileRequest {
  switch (rng.int(0, 7)) {
    case 0: {
      // Many unique field names.
      const fields = Object.fromEntries(Array.from({ length: 30 }, () => [word(rng, 12), word(rng, 20)]));
      return { method: 'POST', path, headers: FORM, body: qs(fields) };
    }
    case 1: {
      // Deep nesting and long arrays in bracketed keys.
      const deep = `${'a'.repeat(1)}${Array.from({ length: 60 }, () => `[${word(rng, 3)}]`).join('')}=1`;
      const array = Array.from({ length: 200 }, (_, i) => `x[]=${i}`).join('&');
      return { method: 'POST', path, headers: FORM, body: `${deep}&${array}&auth[member_id][x][y]=1` };
    }
    case 2: {
      // A 20,000-character DOMAIN in the body (which wins over the query) and an 8,000-character
      // one in the query: Node itself refuses a request line over 16 KB (431) before the app sees it.
      const huge = `${word(rng, 4)}${'a'.repeat(20_000)}.test`;
      return {
        method: 'POST',
        path: `${path}?DOMAIN=${huge.slice(0, 8_000)}&PROTOCOL=1&LANG=en`,
        headers: FORM,
        body: qs({ DOMAIN: huge, member_id: hex(rng, 32), AUTH_ID: word(rng, 40), PLACEMENT: 'DEFAULT' }),
      };
    }
    case 3:
      return {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: `{"member_id":"${hex(rng, 8)}",`,
      };
    case 4:
      return {
        method: 'POST',
        path,
        headers: {
          'content-type': rng.pick(['text/plain', 'multipart/form-data; boundary=x', 'application/xml']),
        },
        body: word(rng, 200),
      };
    case 5: {
      // Invalid UTF-8 and control characters, percent-encoded.
      const bytes = Array.from(
        { length: 300 },
        () => `%${rng.int(0, 255).toString(16).padStart(2, '0')}`,
      ).join('');
      return {
        method: 'POST',
        path,
        headers: FORM,
        body: `member_id=${bytes}&DOMAIN=${bytes}&AUTH_ID=${bytes}`,
      };
    }
    case 6: {
      // JSON with the fields of a real portal but nonsense types.
      const real = rng.pick(known);
      const body = JSON.stringify({
        member_id: [real.memberId],
        DOMAIN: { x: real.domain },
        AUTH_ID: 12,
        ctx: null,
        auth: 'x',
      });
      return { method: 'POST', path, headers: { 'content-type': 'application/json' }, body };
    }
    default:
      return { method: 'POST', path, headers: FORM, body: '' };
  }
}

/** A page context: random, or a genuine one with one character changed. */
function forgedCtx(rng: Rng, known: KnownPortal[]): string {
  if (rng.next() < 0.3) {
    const real = rng.pick(known).ctx;
    const i = rng.int(0, real.length - 1);
    const swap = real[i] === 'A' ? 'B' : 'A';
    return `${real.slice(0, i)}${swap}${real.slice(i + 1)}`;
  }
  return `${word(rng, rng.int(10, 300))}.${word(rng, 43)}`;
}

export function hostileRequest(route: Route, rng: Rng, known: KnownPortal[]): HostileRequest {
  const [method, path] = route.split(' ') as ['GET' | 'POST', string];
  if (method === 'GET') {
    const query = Array.from(
      { length: rng.int(0, 40) },
      () => `${word(rng, 6)}=${word(rng, rng.int(1, 200))}`,
    ).join('&');
    return { method, path: query ? `${path}?${query}` : path, headers: {} };
  }
  if (rng.next() < 0.4) return garbage(rng, path, known);
  let frame: { query: string; body: string };
  switch (route) {
    case 'POST /install':
    case 'POST /':
      frame = forgedFrame(rng, known, 'DEFAULT', '{"any":"1"}');
      return { method, path: `${path}?${frame.query}`, headers: FORM, body: frame.body };
    case 'POST /placements/settings':
      frame = forgedFrame(
        rng,
        known,
        'LANDING_SETTINGS',
        JSON.stringify({ SITE_ID: String(rng.int(1, 1e6)), LID: '1' }),
      );
      return { method, path: `${path}?${frame.query}`, headers: FORM, body: frame.body };
    case 'POST /placements/block':
      frame = forgedFrame(
        rng,
        known,
        'LANDING_BLOCK_*',
        JSON.stringify({ ID: String(rng.int(1, 1e6)), CODE: word(rng, 8), LID: '1' }),
      );
      return { method, path: `${path}?${frame.query}`, headers: FORM, body: frame.body };
    case 'POST /events': {
      const real = rng.next() < 0.3 ? rng.pick(known) : null;
      const event = rng.pick([
        'ONAPPUNINSTALL',
        'ONAPPINSTALL',
        'ONAPPUNINSTALL',
        word(rng, 10).toUpperCase(),
      ]);
      const fields: Record<string, string> = {
        event,
        'data[CLEAN]': '1',
        'data[LANGUAGE_ID]': 'en',
        ts: String(Math.floor(Date.now() / 1000)),
        'auth[domain]': real?.domain ?? `${word(rng, 8).toLowerCase()}.bitrix24.test`,
        'auth[member_id]': real?.memberId ?? hex(rng, 32),
        'auth[application_token]': hex(rng, 32),
        'auth[client_endpoint]': `http://${real?.domain ?? 'x.test'}/rest/`,
      };
      if (event === 'ONAPPINSTALL') {
        fields['auth[access_token]'] = word(rng, 40);
        fields['auth[refresh_token]'] = word(rng, 40);
      }
      return { method, path, headers: FORM, body: qs(fields) };
    }
    default:
      // The three /action routes: our own forms, with a forged or tampered signed context.
      return {
        method,
        path,
        headers: FORM,
        body: qs({
          ctx: forgedCtx(rng, known),
          action: rng.pick(['resync', 'assign', 'clear', 'trash', word(rng, 6)]),
          type: word(rng, 6),
          lid: String(rng.int(1, 1e6)),
        }),
      };
  }
}
