import type { EmulatorContext } from '../context.js';

/**
 * Handler URL rules for landing.repo.bind and event.bind. A handler must be a full http(s) URL
 * with a domain name (api-reference/landing/embedding/landing-repo-bind.md: "must include the
 * protocol and domain name"); a host without a dot (`localhost`) is not one (assumed: the docs
 * give no exact rule; api-reference/widgets/placement-bind.md refuses "localhost, local
 * domains"). Its host must be the host of the URL registered with the app ("Handler URL host
 * doesn't match application url": event.bind's "Possible errors" in the REST docs and
 * /work/shared/bitrix24-protocol.md). Ports are not compared (assumed: no source).
 */
export type HandlerVerdict =
  | { ok: true; url: string }
  | { ok: false; reason: 'invalid' | 'scheme' | 'no-dot' | 'host-mismatch' };

/** The host registered for the app (its `--app` URL), or undefined when none is known. */
export function registeredAppHost(ctx: EmulatorContext, clientId: string): string | undefined {
  const url = ctx.state.apps.get(clientId)?.appUrl ?? ctx.defaultAppUrl;
  if (!url) return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export function checkHandlerUrl(ctx: EmulatorContext, clientId: string, raw: unknown): HandlerVerdict {
  if (typeof raw !== 'string' || !raw.trim()) return { ok: false, reason: 'invalid' };
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'scheme' };
  const host = url.hostname.toLowerCase();
  if (!host || host.indexOf('.') <= 0) return { ok: false, reason: 'no-dot' };
  const appHost = registeredAppHost(ctx, clientId);
  if (appHost !== undefined && appHost !== host) return { ok: false, reason: 'host-mismatch' };
  return { ok: true, url: text };
}
