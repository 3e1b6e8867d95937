// The app's own page: after installFinish() Bitrix24 opens the app's handler path ("application
// link") in its iframe with the same POST as a widget and PLACEMENT=DEFAULT (bitrix24-protocol.md,
// "The app's own page"). An administrator sees the installation's state and can re-sync its
// bindings; any other user sees what the app does and where its widgets are.
import { z } from 'zod';
import type { Bitrix24Client } from '../bitrix24/client.js';
import { isBitrix24Error } from '../bitrix24/errors.js';
import { methods } from '../bitrix24/methods.js';
import { b24Bool, b24Int } from '../bitrix24/schemas.js';
import type { DesiredBinding } from '../installations/manifest.js';
import type { Installation, InstallationStatus, TokenStore } from '../installations/types.js';
import type { PageTarget } from './context.js';
import { placementCode } from './module.js';

/** The app page acts on no option (Bitrix24 sends `{"any":"…"}` there). */
export type AppPageOptions = Record<string, never>;

/** The app's own page: Bitrix24 POSTs it with PLACEMENT=DEFAULT. */
export const APP_PAGE: PageTarget<AppPageOptions> = {
  name: 'app',
  serves: (placement) => placementCode(placement) === 'DEFAULT',
  options: z.record(z.string(), z.unknown()).transform(() => ({}) as AppPageOptions),
};

export interface BindingState {
  kind: 'placement' | 'event';
  code: string;
  handler: string;
  /** Whether the portal still lists it; null when the portal would not say (scope, rights). */
  present: boolean | null;
}

/** What the Bitrix24 Market says about the app on this portal (app.info). */
export interface Licence {
  status: string;
  paymentExpired: boolean | null;
  days: number | null;
}

export interface AdminState {
  domain: string;
  status: InstallationStatus;
  installedAt: Date | null;
  lastError: string | null;
  healCount: number;
  token: { expiresAt: Date; refreshedAt: Date | null } | null;
  licence: Licence | null;
  bindings: BindingState[];
}

export interface AppPageView {
  admin: boolean;
  /** Only for administrators. */
  state: AdminState | null;
}

const asList = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => !!v && typeof v === 'object') : [];

function licenceOf(info: unknown): Licence | null {
  if (!info || typeof info !== 'object') return null;
  const fields = info as Record<string, unknown>;
  const expired = b24Bool.safeParse(fields.PAYMENT_EXPIRED);
  const days = b24Int.safeParse(fields.DAYS);
  return {
    status: typeof fields.STATUS === 'string' ? fields.STATUS : '',
    paymentExpired: expired.success ? expired.data : null,
    days: days.success ? days.data : null,
  };
}

/** The bindings we recorded and whether the portal still lists each one. */
function bindingStates(
  desired: DesiredBinding[],
  placements: Record<string, unknown>[] | null,
  events: Record<string, unknown>[] | null,
): BindingState[] {
  const key = (code: unknown, handler: unknown) => `${String(code).toUpperCase()}\0${String(handler)}`;
  const placed = placements && new Set(placements.map((p) => key(p.placement, p.handler)));
  const subscribed = events && new Set(events.map((e) => key(e.event, e.handler)));
  return desired.map((b) => {
    const listed = b.kind === 'placement' ? placed : subscribed;
    return {
      kind: b.kind,
      code: b.code,
      handler: b.handler,
      present: listed ? listed.has(key(b.code, b.handler)) : null,
    };
  });
}

/**
 * For an administrator (as the verification of their token said), one batch with their token:
 * the licence and what the portal still lists of our bindings. Anyone else: nothing to ask.
 */
export async function loadAppPage(
  client: Bitrix24Client,
  installation: Installation,
  store: Pick<TokenStore, 'getTokens'>,
  desired: DesiredBinding[],
  admin: boolean,
): Promise<AppPageView> {
  if (!admin) return { admin: false, state: null };
  const { result, errors } = await client.rest.batch({
    info: methods.app.info.command(),
    placements: methods.placement.get.command(),
    events: methods.event.get.command(),
  });
  const tokens = await store.getTokens(installation.id);
  return {
    admin: true,
    state: {
      domain: installation.domain,
      status: installation.status,
      installedAt: installation.installedAt,
      lastError: installation.lastError,
      healCount: installation.healCount,
      token: tokens && { expiresAt: tokens.expiresAt, refreshedAt: tokens.refreshedAt },
      licence: errors.info ? null : licenceOf(result.info),
      bindings: bindingStates(
        desired,
        errors.placements ? null : asList(result.placements),
        errors.events ? null : asList(result.events),
      ),
    },
  };
}

/** Whether the visitor administers the portal, asked afresh: actions never trust an old answer. */
export async function isPortalAdmin(client: Bitrix24Client): Promise<boolean> {
  try {
    return await client.user.admin(undefined);
  } catch (error) {
    if (isBitrix24Error(error) && (error.kind === 'auth' || error.kind === 'access')) return false;
    throw error;
  }
}
