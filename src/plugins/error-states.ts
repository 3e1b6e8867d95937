// Which designed page an error answer becomes: a state has a heading and a "what next" in the
// catalogs (`state.<name>.title`, `state.<name>.next`); the sentence stays the code's own
// (`errors.<code>`). Codes without a state of their own fall into their status's group.

/** How the page lets the user try again. */
export type Retry =
  /** Reloading the frame re-posts the same request (the browser keeps the POST body). */
  | 'reload'
  /** As `reload`, but only once the Retry-After has passed. */
  | 'wait'
  | null;

export interface StatePage {
  state: string;
  retry: Retry;
}

const OWN: Record<string, StatePage> = {
  needs_reinstall: { state: 'needs_reinstall', retry: null },
  payment_required: { state: 'payment_required', retry: null },
  uninstall_reported: { state: 'uninstall_reported', retry: null },
  unknown_portal: { state: 'unknown_portal', retry: null },
  install_requires_admin: { state: 'install_requires_admin', retry: null },
  admin_only: { state: 'admin_only', retry: null },
  expired_context: { state: 'expired_context', retry: null },
  portal_unavailable: { state: 'portal_unavailable', retry: 'reload' },
  deadline_exceeded: { state: 'deadline_exceeded', retry: 'reload' },
  database_unavailable: { state: 'database_unavailable', retry: 'reload' },
  shutting_down: { state: 'shutting_down', retry: 'reload' },
  rate_limited: { state: 'rate_limited', retry: 'wait' },
  not_found: { state: 'not_found', retry: null },
};

export function statePage(code: string, status: number): StatePage {
  const own = OWN[code];
  if (own) return own;
  if (status === 429) return OWN.rate_limited!;
  if (status === 401 || status === 403) return { state: 'refused', retry: null };
  if (status === 404) return OWN.not_found!;
  if (status >= 500) return { state: 'internal_error', retry: 'reload' };
  return { state: 'bad_request', retry: null };
}

/** Every state a page can show (the catalogs must have its heading and "what next"). */
export const STATES = [
  ...new Set([...Object.values(OWN).map((s) => s.state), 'refused', 'internal_error', 'bad_request']),
];

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(header: unknown, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
