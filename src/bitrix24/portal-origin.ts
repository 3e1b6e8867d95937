/** scheme://host[:port] with a host of at most 255 characters (payloads.ts bounds DOMAIN the same). */
export const FRAMING_ORIGIN = /^https?:\/\/[a-z0-9.-]{1,255}(:\d{1,5})?$/;

/** `https://portal.bitrix24.com` from DOMAIN and PROTOCOL, or null when it is not a plain origin. */
export function portalOrigin(protocol: 'http' | 'https', domain: string): string | null {
  try {
    const url = new URL(`${protocol}://${domain}`);
    return url.host === domain.toLowerCase() ? url.origin : null;
  } catch {
    return null;
  }
}
