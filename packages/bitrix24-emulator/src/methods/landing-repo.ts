import { Errors, RestError } from '../errors.js';
import { isPlainObject, param, required } from '../params.js';
import { requireApp } from './access.js';
import { checkHandlerUrl } from './handler-url.js';
import type { MethodTable } from './types.js';

const onlyApps = () =>
  new RestError(400, 'ACCESS_DENIED', 'Only an application can manage embedding locations');

/** Bitrix24 stores placement codes trimmed and upper-cased; matching is case-insensitive. */
export const normalizePlacement = (code: unknown): string =>
  String(code ?? '')
    .trim()
    .toUpperCase();

/**
 * api-reference/landing/embedding/landing-repo-bind.md: app context only (400 ACCESS_DENIED), View
 * right on Sites is enough, PLACEMENT trimmed + upper-cased and LANDING_* only
 * (PLACEMENT_UNKNOWN), handler rules (PLACEMENT_HANDLER_INVALID), same PLACEMENT + handler twice
 * → PLACEMENT_EXIST. TITLE is the only other field read (DESCRIPTION is not in the docs).
 */
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
      const verdict = checkHandlerUrl(ctx, inst.clientId, fields.PLACEMENT_HANDLER);
      if (!verdict.ok) {
        const text =
          verdict.reason === 'host-mismatch'
            ? "Handler URL host doesn't match application url"
            : 'Invalid embedding location handler address';
        throw new RestError(400, 'PLACEMENT_HANDLER_INVALID', text);
      }
      const handler = verdict.url;
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
  /** api-reference/landing/embedding/landing-repo-unbind.md: null outside app context; PLACEMENT_NO_EXIST. */
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
   * api-reference/widgets/placement-get.md. Lists the app's placements. Emulator note: includes landing.repo.bind placements; whether real
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
