// Which portal may frame an error page, and in which language it is written. Nothing of the
// unverified request reaches a header as sent: the page is framed by the portal the installation
// pinned (looked up by member_id, or by the sealed context of our own forms), else by DOMAIN
// once it has passed the same validation as a real payload, else by nobody.
import type { FastifyRequest } from 'fastify';
import { portalDomain } from '../bitrix24/payloads.js';
import { portalOrigin } from '../bitrix24/portal-origin.js';
import { resolveLang } from '../i18n.js';

/** How long an error page waits for the installation lookup before framing without it. */
const LOOKUP_BUDGET_MS = 200;
const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface ErrorFrame {
  lang: string;
  /** The origin allowed to frame the page, or null for nobody. */
  origin: string | null;
}

function pick(source: unknown, key: string): string | undefined {
  const value = source && typeof source === 'object' ? (source as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The value, or undefined when `ms` pass first (or it fails): an error page never waits long. */
async function briefly<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, late]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The pinned portal's origin; null when the portal is unknown, undefined when we cannot tell. */
async function pinnedOrigin(request: FastifyRequest, memberId: string): Promise<string | null | undefined> {
  const recent = request.server.recentInstallations;
  if (!recent) return undefined;
  const installation = await briefly(recent.find(memberId), LOOKUP_BUDGET_MS);
  if (installation === undefined) return undefined;
  if (installation === null) return null;
  const protocol = installation.clientEndpoint.startsWith('http://') ? 'http' : 'https';
  return portalOrigin(protocol, installation.domain);
}

/**
 * A widget action posts our sealed context: it names the portal and the user's language. One
 * that does not verify (expired, forged, sealed with a key this process lacks) still names a
 * member_id, looked up like an unverified member_id in a payload: only the portal we pinned for
 * it may frame the page, so a user whose page went stale sees why. Its language stays unknown.
 */
function sealedContext(request: FastifyRequest): { memberId: string; lang?: string } | null {
  const token = pick(request.body, 'ctx');
  const signer = request.server.pageContext;
  if (token === undefined || !signer) return null;
  try {
    const context = signer.verify(token);
    return { memberId: context.memberId, lang: context.lang };
  } catch {
    const claimed = token.slice(0, Math.max(0, token.indexOf('.')));
    return MEMBER_ID.test(claimed) ? { memberId: claimed } : null;
  }
}

/**
 * `lookup: false` frames without asking the database for the pinned portal (a flood answered
 * 429 must stay cheap; a closing app may have no database).
 */
export async function errorFrame(request: FastifyRequest, lookup = true): Promise<ErrorFrame> {
  const { body, query } = request;
  const sealed = sealedContext(request);
  // Bitrix24 sends LANG in the query (install) or the body (widgets); resolveLang maps it to ours.
  const lang = resolveLang(sealed?.lang ?? pick(body, 'LANG') ?? pick(query, 'LANG'));
  const memberId = sealed?.memberId ?? pick(body, 'member_id') ?? pick(query, 'member_id');
  if (lookup && memberId !== undefined && MEMBER_ID.test(memberId)) {
    const pinned = await pinnedOrigin(request, memberId);
    if (pinned) return { lang, origin: pinned };
  }
  if (sealed) return { lang, origin: null };
  // The body wins over the query, as in mergeQueryAndBody.
  const domain = portalDomain.safeParse(pick(body, 'DOMAIN') ?? pick(query, 'DOMAIN'));
  if (!domain.success) return { lang, origin: null };
  const protocol = (pick(body, 'PROTOCOL') ?? pick(query, 'PROTOCOL')) === '0' ? 'http' : 'https';
  return { lang, origin: portalOrigin(protocol, domain.data) };
}
