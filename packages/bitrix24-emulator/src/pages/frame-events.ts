import type { EmulatorContext } from '../context.js';
import { appPagePayload, type FramePayload } from '../frames.js';
import { isPlainObject, toInt } from '../params.js';
import type { PortalState } from '../types.js';

export interface FrameEventResult {
  /** Value the page posts back to the frame as `callbackKey:JSON` (null → empty). */
  reply: unknown;
  /** A re-rendered block for refreshBlock. */
  block?: { id: number; code: string; name: string; content: string; refreshCount: number };
  /** The page should reload its view model (install finished: placements become visible). */
  reloadState?: boolean;
  /** The frame is to be reloaded with this POST (after installFinish: the app's own page). */
  navigate?: FramePayload;
}

const empty = (o: Record<string, unknown>): Record<string, unknown> | [] => (Object.keys(o).length ? o : []);

/** One command from an app frame, recorded in the portal's state, with its side effects and reply. */
export function frameEvent(
  ctx: EmulatorContext,
  portal: PortalState,
  frame: FramePayload,
  command: string,
  params: unknown,
): FrameEventResult {
  const at = ctx.clock.now();
  portal.frameEvents.push({ at, frameId: frame.frameId, clientId: frame.clientId, command, params });
  const inst = ctx.state.installation(portal, frame.clientId);
  const p = isPlainObject(params) ? params : {};
  switch (command) {
    case 'getInitData':
      return {
        reply: {
          ...frame.init,
          APP_OPTIONS: empty(inst.options),
          USER_OPTIONS: empty(inst.userOptions[frame.userId] ?? {}),
        },
      };
    case 'setInstallFinish': {
      // sdk/bx24-js-sdk/system-functions/bx24-install-finish.md: called from the installer, the
      // app counts as installed and "the page will reload and the application will launch", i.e.
      // the frame gets the app's handler path with a DEFAULT POST. Elsewhere it has no effect.
      if (frame.init.PLACEMENT !== 'DEFAULT' || !frame.init.INSTALL) return { reply: null };
      inst.installFinished = true;
      const next = appPagePayload(ctx, portal, { clientId: frame.clientId, userId: frame.userId });
      ctx.frames.set(next.frameId, next);
      return { reply: null, reloadState: true, navigate: next };
    }
    case 'refreshAuth': {
      const { access, refresh } = ctx.state.issueTokens(portal.memberId, frame.clientId, frame.userId);
      return {
        reply: {
          AUTH_ID: access.token,
          REFRESH_ID: refresh.token,
          AUTH_EXPIRES: ctx.state.accessTokenTtl,
          member_id: portal.memberId,
        },
      };
    }
    case 'setAppOption':
      if (typeof p.name === 'string') inst.options[p.name] = p.value;
      return { reply: null };
    case 'setUserOption':
      if (typeof p.name === 'string') {
        inst.userOptions[frame.userId] ??= {};
        inst.userOptions[frame.userId]![p.name] = p.value;
      }
      return { reply: null };
    case 'refreshBlock': {
      const id = toInt(p.id);
      const block = id === undefined ? undefined : portal.blocks.get(id);
      if (!block) return { reply: null };
      block.refreshCount++;
      block.modifiedAt = at;
      portal.refreshedBlocks.push({ at, blockId: block.id, source: 'frame' });
      const { id: bid, code, name, content, refreshCount } = block;
      return { reply: null, block: { id: bid, code, name, content, refreshCount } };
    }
    case 'getInterface':
      return { reply: { command: [], event: [] } };
    default:
      // resizeWindow, setTitle, setScroll, reloadWindow, setInstall, closeApplication, ... are UI-only.
      return { reply: null };
  }
}
