// A widget open (Bitrix24's form POST) or one of its actions (our own form POST carrying the
// signed context) becomes one typed context: the installation, the user's client, the
// language, the placement options. Routes receive that and nothing raw.
import type { z } from 'zod';
import type { Bitrix24Client } from '../bitrix24/client.js';
import type { Bitrix24ClientFactory } from '../bitrix24/client-factory.js';
import { mergeQueryAndBody, parsePayload, placementPayloadSchema } from '../bitrix24/payloads.js';
import type { PlacementPayloads } from '../bitrix24/placement-payloads.js';
import { portalOrigin } from '../bitrix24/portal-origin.js';
import { AppError } from '../errors.js';
import { resolveLang, type Translate, translator } from '../i18n.js';
import type { Healed } from '../installations/installer.js';
import type { Installation, InstallationRecords } from '../installations/types.js';
import type { PageContextSigner } from './page-context.js';
import type { UserTokenVerifier } from './user-verifier.js';
import { VerifyingClient } from './verifying-client.js';

/** PLACEMENT_OPTIONS as a page reads them: string values (Bitrix24 sends strings). */
export type PageOptions = Record<string, string | undefined>;

/**
 * A page the portal frames: a widget (placements/module.ts) or the app's own page. What opening
 * it needs: whose POSTs it serves and how it reads PLACEMENT_OPTIONS.
 */
export interface PageTarget<O extends PageOptions = PageOptions> {
  /** Names the page in messages; a widget's template is views/<name>.eta. */
  name: string;
  /** Whether a posted PLACEMENT is this page's (Bitrix24's codes are case-insensitive). */
  serves(placement: string): boolean;
  options: z.ZodType<O, unknown>;
}

export interface WidgetContext<O extends PageOptions = PageOptions> {
  /** The page's name (PageTarget.name). */
  page: string;
  installation: Installation;
  placement: string;
  options: O;
  lang: string;
  t: Translate;
  /** The portal page that frames us. */
  origin: string;
  /** Acts as the user who opened the widget. */
  client: Bitrix24Client;
  /** That user, as the portal named them. */
  userId: number;
  /** Whether the portal says that user administers it: admin-only parts are shown by this. */
  admin: boolean;
  /** Signed context for this page's forms. */
  token: string;
}

/** A widget before its user is known: what a page's data loader needs. */
export type WidgetBase<O extends PageOptions = PageOptions> = Omit<
  WidgetContext<O>,
  'userId' | 'admin' | 'token'
>;

export interface WidgetDeps {
  store: Pick<InstallationRecords, 'find'>;
  /**
   * Self-healing: gives an installation that lost its tokens those of the portal administrator
   * who opens the page (null when this visitor cannot heal it). See Installer.heal.
   */
  heal?(
    installation: Installation,
    tokens: { accessToken: string; refreshToken: string; expiresInSeconds: number },
  ): Promise<Healed | null>;
  /** A page naming another address: the re-pinned installation if the OAuth server confirms it (Installer.confirmAddress). */
  confirmAddress?(installation: Installation, domain: string): Promise<Installation | null>;
  /** Short-lived installation lookups for widget opens (actions always read the store). */
  recent?: Pick<InstallationRecords, 'find'>;
  clients: Bitrix24ClientFactory;
  signer: PageContextSigner;
  verifier: UserTokenVerifier;
  allowHttp: boolean;
  now?: () => number;
  /** Validates widget payloads, keeping each portal's validated fields (default: the schema every time). */
  payloads?: PlacementPayloads;
}

function placementMismatch(target: PageTarget<PageOptions>, placement: string): AppError {
  return new AppError(
    400,
    'placement_mismatch',
    `This address serves ${target.name} pages, not ${placement}.`,
  );
}

/** Refuses every installation the app may not act for, saying why. */
function assertActive(installation: Installation | null): asserts installation is Installation {
  if (!installation || installation.status === 'uninstalled' || installation.status === 'new') {
    throw new AppError(403, 'unknown_portal', 'This portal has not installed the app.');
  }
  switch (installation.status) {
    case 'needs_reinstall':
      throw new AppError(
        403,
        'needs_reinstall',
        'The app has lost access to this portal and must be reinstalled.',
      );
    case 'payment_required':
      throw new AppError(
        403,
        'payment_required',
        'The app’s subscription on this portal has expired. A portal administrator can renew it in the Bitrix24 Market.',
      );
    case 'uninstall_reported':
      throw new AppError(
        403,
        'uninstall_reported',
        'Bitrix24 reported that the app was removed from this portal. A portal administrator can install it again.',
      );
  }
}

async function activeInstallation(
  store: Pick<InstallationRecords, 'find'>,
  memberId: string,
): Promise<Installation> {
  const installation = await store.find(memberId);
  assertActive(installation);
  return installation;
}

/** Portal origins by `protocol://domain`: parsing a URL on every widget open showed in profiles. */
const origins = new Map<string, string>();

function originOf(installation: Installation): string {
  const protocol = installation.clientEndpoint.startsWith('http://') ? 'http' : 'https';
  const key = `${protocol}://${installation.domain}`;
  let origin = origins.get(key);
  if (origin === undefined) {
    origin = portalOrigin(protocol, installation.domain) ?? key;
    // Bounded by the installations this process serves; cleared rather than grown past that.
    if (origins.size >= 10_000) origins.clear();
    origins.set(key, origin);
  }
  return origin;
}

interface ReadOptions<O> {
  options: O;
  /** The options as JSON: part of the key a sealed page context is reused by. */
  json: string;
}

/**
 * A page's options, read from PLACEMENT_OPTIONS once per parsed object: PlacementPayloads hands
 * every repeat of a portal's fields the same (frozen) object, so a warm open reads nothing.
 */
const readOptionsByTarget = new WeakMap<PageTarget<PageOptions>, WeakMap<object, ReadOptions<PageOptions>>>();

function readOptions<O extends PageOptions>(
  target: PageTarget<O>,
  raw: Record<string, unknown>,
): ReadOptions<O> {
  const key = target as unknown as PageTarget<PageOptions>;
  let read = readOptionsByTarget.get(key);
  if (read === undefined) {
    read = new WeakMap();
    readOptionsByTarget.set(key, read);
  }
  const known = read.get(raw) as ReadOptions<O> | undefined;
  if (known !== undefined) return known;
  // Shared with every later open of this object: frozen, so no request changes another's.
  const options = Object.freeze(parsePayload(target.options, raw, 'PLACEMENT_OPTIONS'));
  const entry = { options, json: JSON.stringify(options) };
  if (Object.isFrozen(raw)) read.set(raw, entry);
  return entry;
}

/**
 * From Bitrix24's placement POST (query + body). With `preload`, a cold open (a token not yet
 * verified) loads the page's data in the same batch request that verifies the token, and hands
 * it back as `preloaded`: one round trip to the portal instead of two.
 */
export async function openWidget<O extends PageOptions, V = never>(
  deps: WidgetDeps,
  target: PageTarget<O>,
  query: unknown,
  body: unknown,
  preload?: (widget: WidgetBase<O>) => Promise<V>,
): Promise<WidgetContext<O> & { preloaded?: V }> {
  const input = mergeQueryAndBody(query, body);
  const payload = deps.payloads
    ? deps.payloads.read(input)
    : parsePayload(placementPayloadSchema, input, 'widget request');
  if (!target.serves(payload.PLACEMENT)) throw placementMismatch(target, payload.PLACEMENT);
  if (payload.PROTOCOL === 'http' && !deps.allowHttp) {
    throw new AppError(400, 'https_required', 'This app accepts only portals served over https.');
  }
  const { options, json: optionsJson } = readOptions(target, payload.PLACEMENT_OPTIONS);
  let installation = await (deps.recent ?? deps.store).find(payload.member_id);
  const now = (deps.now ?? Date.now)();
  let authId = payload.AUTH_ID;
  let userAuthExpiresAt = now + payload.AUTH_EXPIRES * 1000;
  if (
    installation?.status === 'needs_reinstall' &&
    installation.domain === payload.DOMAIN &&
    payload.REFRESH_ID !== undefined &&
    deps.heal
  ) {
    const healed = await deps.heal(installation, {
      accessToken: authId,
      refreshToken: payload.REFRESH_ID,
      expiresInSeconds: payload.AUTH_EXPIRES,
    });
    if (healed) {
      // The administrator's pair now belongs to the installation; this page acts with its new access token.
      ({ installation, accessToken: authId } = healed);
      userAuthExpiresAt = healed.expiresAt.getTime();
    }
  }
  assertActive(installation);
  // The installation's domain was pinned by a verified install; a request naming another is
  // forged or stale, unless the portal was renamed and the OAuth server says so.
  if (installation.domain !== payload.DOMAIN && deps.confirmAddress) {
    installation = (await deps.confirmAddress(installation, payload.DOMAIN)) ?? installation;
  }
  if (installation.domain !== payload.DOMAIN) {
    throw new AppError(
      403,
      'domain_mismatch',
      'This request names a different portal address than the installed one.',
    );
  }
  const lang = resolveLang(payload.LANG);
  const pinned = installation;
  // The user's client is built on first use: a cached verification and view never need it.
  let client: Bitrix24Client | undefined;
  const userClient = () => {
    client ??= deps.clients.forUser(pinned, authId);
    return client;
  };
  // No spread of an object with the client getter: spreading would build the client.
  const fields = {
    page: target.name,
    installation,
    placement: payload.PLACEMENT,
    options,
    lang,
    t: translator(lang),
    origin: originOf(installation),
  };
  let preloaded: V | undefined;
  let viewError: unknown;
  const identifyWith =
    preload &&
    (async () => {
      const verifying = new VerifyingClient(deps.clients.forUser(pinned, authId));
      client = verifying.client;
      // Made here, on a cold open only: an object with a getter showed in warm-open profiles.
      const base: WidgetBase<O> = {
        ...fields,
        get client() {
          return userClient();
        },
      };
      try {
        preloaded = await preload(base);
      } catch (error) {
        // The page's own failure, shown once the token is known good; a refused token
        // rejects identity() below with the portal's verdict instead.
        viewError = error;
      }
      return verifying.identity();
    });
  // Only a token the pinned portal accepts is signed into the page's forms.
  const user = await deps.verifier.verify(
    installation.memberId,
    authId,
    userAuthExpiresAt,
    userClient,
    identifyWith,
  );
  if (viewError !== undefined) throw viewError;
  // The session key already names portal, AUTH_ID and (verified) user; the rest names the page.
  const reuseKey = `${user.sessionKey}\0${payload.PLACEMENT}\0${lang}\0${optionsJson}`;
  const token = deps.signer.signReusable(
    {
      memberId: installation.memberId,
      placement: payload.PLACEMENT,
      options: options as Record<string, string>,
      lang,
      userAuth: authId,
      userAuthExpiresAt,
      userId: user.userId,
      admin: user.admin,
    },
    reuseKey,
  );
  return new OpenedWidget<O, V>(fields, user, token, preloaded, userClient);
}

/**
 * What openWidget hands its route. A class: an object literal with the `client` getter was built
 * on V8's slow path, a twentieth of a warm open; here the getter sits on the prototype.
 */
class OpenedWidget<O extends PageOptions, V> implements WidgetContext<O> {
  readonly page: string;
  readonly installation: Installation;
  readonly placement: string;
  readonly options: O;
  readonly lang: string;
  readonly t: Translate;
  readonly origin: string;
  readonly userId: number;
  readonly admin: boolean;
  readonly token: string;
  readonly preloaded: V | undefined;
  readonly #userClient: () => Bitrix24Client;

  constructor(
    fields: Omit<WidgetBase<O>, 'client'>,
    user: { userId: number; admin: boolean },
    token: string,
    preloaded: V | undefined,
    userClient: () => Bitrix24Client,
  ) {
    this.page = fields.page;
    this.installation = fields.installation;
    this.placement = fields.placement;
    this.options = fields.options;
    this.lang = fields.lang;
    this.t = fields.t;
    this.origin = fields.origin;
    this.userId = user.userId;
    this.admin = user.admin;
    this.token = token;
    this.preloaded = preloaded;
    this.#userClient = userClient;
  }

  /** The user's client, built on first use: a cached verification and view never need it. */
  get client(): Bitrix24Client {
    return this.#userClient();
  }
}

/** From one of our own forms: the signed context decides who acts where. */
export async function resumeWidget<O extends PageOptions>(
  deps: WidgetDeps,
  target: PageTarget<O>,
  body: unknown,
): Promise<WidgetContext<O>> {
  // A string or number body has no `ctx` member: undefined, as for no body.
  const raw = (body as Record<string, unknown> | null | undefined)?.ctx;
  const context = deps.signer.verify(raw);
  if (!target.serves(context.placement)) throw placementMismatch(target, context.placement);
  const installation = await activeInstallation(deps.store, context.memberId);
  return {
    page: target.name,
    installation,
    placement: context.placement,
    // Signed by us when the page was opened, after this page's schema read them.
    options: context.options as O,
    lang: context.lang,
    t: translator(context.lang),
    origin: originOf(installation),
    client: deps.clients.forUser(installation, context.userAuth),
    userId: context.userId,
    admin: context.admin === true,
    // The same signed context serves the next form on the re-rendered page.
    token: raw as string,
  };
}
