import { Errors, RestError } from '../errors.js';
import { isPlainObject, param, required } from '../params.js';
import { requireApp } from './access.js';
import type { MethodTable } from './types.js';

const onlyApps = () =>
  new RestError(400, 'ACCESS_DENIED', 'Only an application can manage embedding locations');

/** Bitrix24 stores placement codes trimmed and upper-cased; matching is case-insensitive. */
export const normalizePlacement = (code: unknown): string =>
  String(code ?? '')
    .trim()
    .toUpperCase();

function validHandler(v: unknown): string | null {
  if (typeof v !== 'string' || !v.trim()) return null;
  try {
    const u = new URL(v.trim());
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? v.trim() : null;
  } catch {
    return null;
  }
}

export const landingRepoMethods: MethodTable = {
  'landing.repo.bind': {
    scope: 'landing',
    handler: ({ auth, params, portal, ctx }) => {
      const inst = requireApp(auth, onlyApps);
      const fields = param(params, 'fields');
      if (fields === undefined || fields === null || fields === '') {
        throw new RestError(400, 'MISSING_PARAMS', 'Not enough parameters for the call, missing: fields');
      }
      if (!isPlainObject(fields))
        throw new RestError(400, 'TYPE_ERROR', 'Invalid call argument type: fields');
      const placement = normalizePlacement(fields.PLACEMENT);
      if (!placement.startsWith('LANDING_')) {
        throw new RestError(400, 'PLACEMENT_UNKNOWN', 'This embedding location is not available for sites');
      }
      const handler = validHandler(fields.PLACEMENT_HANDLER);
      if (!handler) {
        throw new RestError(400, 'PLACEMENT_HANDLER_INVALID', 'Invalid embedding location handler address');
      }
      if (inst.placements.some((p) => p.placement === placement && p.handler === handler)) {
        throw new RestError(400, 'PLACEMENT_EXIST', 'Such embedding placement already exists');
      }
      inst.placements.push({
        id: portal.nextId++,
        clientId: inst.clientId,
        placement,
        handler,
        title: typeof fields.TITLE === 'string' ? fields.TITLE : '',
        createdAt: ctx.clock.now(),
      });
      return true;
    },
  },
  'landing.repo.unbind': {
    scope: 'landing',
    handler: ({ auth, params }) => {
      const code = normalizePlacement(required(params, 'code'));
      if (auth.kind !== 'app' || !auth.installation) return null;
      const inst = auth.installation;
      const handler = param(params, 'handler');
      const keep = inst.placements.filter(
        (p) => !(p.placement === code && (handler === undefined || handler === '' || p.handler === handler)),
      );
      if (keep.length === inst.placements.length) {
        throw new RestError(400, 'PLACEMENT_NO_EXIST', 'Such embedding placement does not exist');
      }
      inst.placements = keep;
      return true;
    },
  },
  /**
   * Lists the app's placements. Emulator note: includes landing.repo.bind placements; whether real
   * Bitrix24 lists those here is not documented.
   */
  'placement.get': {
    scope: 'placement',
    handler: ({ auth }) => {
      const inst = requireApp(auth, () => Errors.appContextRequired());
      return inst.placements.map((p) => ({
        placement: p.placement,
        handler: p.handler,
        title: p.title,
        description: '',
        options: [],
      }));
    },
  },
};
