// Widget opens of one portal's page differ only in the user's session: the portal's fields
// (DOMAIN, PROTOCOL, LANG, member_id, PLACEMENT, PLACEMENT_OPTIONS) come again and again. Their
// validated form is kept by their exact text, so a repeat validates only the session's fields
// (AUTH_ID, AUTH_EXPIRES, REFRESH_ID), which are never kept. Validation was a tenth of a warm
// widget open's CPU. Anything this reader accepts or refuses, placementPayloadSchema would too,
// with the same data or the same error (test/bitrix24/placement-payloads.test.ts).
import type { z } from 'zod';
import { setBounded } from '../bounded-map.js';
import { type PlacementPayload, parsePayload, placementPayloadSchema } from './payloads.js';

const sessionSchema = placementPayloadSchema.pick({ AUTH_ID: true, AUTH_EXPIRES: true, REFRESH_ID: true });
type PortalFields = Omit<PlacementPayload, keyof z.output<typeof sessionSchema>>;

/** Longer PLACEMENT_OPTIONS are validated every time rather than kept (memory). */
const KEPT_OPTIONS_CHARS = 1_024;

/** The portal's fields as one unambiguous key (each value length-prefixed), or null if one is missing. */
function portalKey(input: Record<string, string>): string | null {
  const { DOMAIN, PROTOCOL, LANG, member_id, PLACEMENT, PLACEMENT_OPTIONS } = input;
  if (
    DOMAIN === undefined ||
    PROTOCOL === undefined ||
    LANG === undefined ||
    member_id === undefined ||
    PLACEMENT === undefined ||
    PLACEMENT_OPTIONS === undefined ||
    PLACEMENT_OPTIONS.length > KEPT_OPTIONS_CHARS
  )
    return null;
  return `${DOMAIN.length}:${DOMAIN}${PROTOCOL.length}:${PROTOCOL}${LANG.length}:${LANG}${member_id.length}:${member_id}${PLACEMENT.length}:${PLACEMENT}${PLACEMENT_OPTIONS}`;
}

export class PlacementPayloads {
  private readonly portals = new Map<string, PortalFields>();

  /** A portal's pages times its languages: 1,000 portal fields of up to about 1 KB each. */
  constructor(private readonly maxEntries = 1_000) {}

  get size(): number {
    return this.portals.size;
  }

  /** placementPayloadSchema's answer for `input` (query and body merged), or its 400. */
  read(input: Record<string, string>): PlacementPayload {
    const key = portalKey(input);
    const known = key === null ? undefined : this.portals.get(key);
    if (known === undefined) {
      const payload = parsePayload(placementPayloadSchema, input, 'widget request');
      if (key !== null) {
        const { AUTH_ID: _a, AUTH_EXPIRES: _e, REFRESH_ID: _r, ...portal } = payload;
        // Shared by every later open with these fields: frozen, so no request can change another's.
        Object.freeze(portal.PLACEMENT_OPTIONS);
        setBounded(this.portals, key, Object.freeze(portal), this.maxEntries);
      }
      return payload;
    }
    return { ...known, ...parsePayload(sessionSchema, input, 'widget request') };
  }
}
