import type { EmulatorContext } from '../context.js';
import { RestError } from '../errors.js';
import { param, toInt } from '../params.js';
import { requireAdmin, requireApp } from './access.js';
import { checkHandlerUrl } from './handler-url.js';
import type { MethodTable } from './types.js';

/** Events this emulator knows; others answer ERROR_EVENT_NOT_FOUND like an unknown event on a portal. */
export const KNOWN_EVENTS = [
  'ONAPPINSTALL',
  'ONAPPUNINSTALL',
  'ONAPPUPDATE',
  'ONAPPPAYMENT',
  'ONAPPTEST',
  'ONAPPMETHODCONFIRM',
  'ONUSERADD',
  'ONOFFLINEEVENT',
];

const wrongAuth = () =>
  new RestError(401, 'WRONG_AUTH_TYPE', 'Current authorization type is denied for this method');

/** event.bind's handler checks; codes from Bitrix24's REST handler helper (assumed: the docs list only the texts). */
function handlerUrl(ctx: EmulatorContext, clientId: string, v: unknown): string {
  if (v === undefined || v === null || v === '') {
    throw new RestError(400, 'ERROR_ARGUMENT', "Argument 'handler' is null or empty");
  }
  const verdict = checkHandlerUrl(ctx, clientId, v);
  if (verdict.ok) return verdict.url;
  if (verdict.reason === 'host-mismatch') {
    throw new RestError(400, 'ERROR_HANDLER_URL_MATCH', "Handler URL host doesn't match application url");
  }
  if (verdict.reason === 'scheme') {
    throw new RestError(400, 'ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported event handler protocol');
  }
  throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
}

export const eventMethods: MethodTable = {
  /**
   * api-reference/events/event-bind.md: app context only; any user, but a non-admin gets no
   * offline events and binds as themselves (auth_type = own id). Unknown event → 400
   * ERROR_EVENT_NOT_FOUND. A duplicate (event + handler + auth_type) → "Unable to set event
   * handler: Handler already binded" (text: the REST docs' event.bind "Possible errors"; code
   * ERROR_CORE assumed: no source names it).
   */
  'event.bind': {
    scope: null,
    handler: ({ auth, params, ctx }) => {
      const inst = requireApp(auth, wrongAuth);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      if (!KNOWN_EVENTS.includes(event)) throw new RestError(400, 'ERROR_EVENT_NOT_FOUND', 'Event not found');
      const handler = handlerUrl(ctx, inst.clientId, param(params, 'handler'));
      const offline = String(param(params, 'event_type') ?? 'online').toLowerCase() === 'offline';
      if (offline && !auth.user.admin) {
        throw new RestError(
          403,
          'ACCESS_DENIED',
          'Access denied! Offline events are available to administrators only',
        );
      }
      // Non-admins may only bind handlers authorised as themselves.
      const authType = auth.user.admin ? (toInt(param(params, 'auth_type')) ?? 0) : auth.user.id;
      if (inst.events.some((e) => e.event === event && e.handler === handler && e.authType === authType)) {
        throw new RestError(400, 'ERROR_CORE', 'Unable to set event handler: Handler already binded');
      }
      inst.events.push({ clientId: inst.clientId, event, handler, authType, offline });
      return true;
    },
  },
  /** api-reference/events/event-unbind.md */
  'event.unbind': {
    scope: null,
    handler: ({ auth, params }) => {
      const inst = requireApp(auth, wrongAuth);
      requireAdmin(auth);
      const event = String(param(params, 'event') ?? '').toUpperCase();
      const handler = param(params, 'handler');
      const authType = toInt(param(params, 'auth_type'));
      const offline = String(param(params, 'event_type') ?? '').toLowerCase() === 'offline';
      const before = inst.events.length;
      inst.events = inst.events.filter(
        (e) =>
          !(
            (!event || e.event === event) &&
            (handler === undefined || handler === '' || e.handler === handler) &&
            (authType === undefined || e.authType === authType) &&
            e.offline === offline
          ),
      );
      return { count: before - inst.events.length };
    },
  },
  /** api-reference/events/event-get.md */
  'event.get': {
    scope: null,
    handler: ({ auth }) => {
      const inst = requireApp(auth, wrongAuth);
      return inst.events.map((e) => ({
        event: e.event,
        handler: e.handler,
        auth_type: String(e.authType),
        offline: e.offline ? 1 : 0,
      }));
    },
  },
};
