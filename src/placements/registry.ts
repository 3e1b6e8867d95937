// Every widget the app has, listed once. Routes are made from this list (routes/placements.ts),
// and so is the manifest the installer binds (a placement per code of each module, and the
// events we subscribe to). A new widget is one more module here: docs/adding-a-widget.md.
import { type AppManifest, type DesiredBinding, desiredBindingsOf } from '../installations/manifest.js';
import { blockPlacement } from './block.js';
import type { PlacementModule } from './module.js';
import { settingsPlacement } from './settings.js';

export const PLACEMENT_MODULES: readonly PlacementModule[] = [settingsPlacement, blockPlacement];

/** Events the app subscribes to with event.bind, and the path that receives them. */
export const EVENTS_PATH = '/events';
export const SUBSCRIBED_EVENTS = ['ONAPPUNINSTALL'] as const;

/** What these modules bind, with B24_BLOCK_CODES, and the events: the installer's input. */
export function appManifest(modules: readonly PlacementModule[], blockCodes: readonly string[]): AppManifest {
  return {
    placements: modules.flatMap((m) =>
      m.codes(blockCodes).map((code) => ({ code, handlerPath: m.handlerPath, titleKey: m.titleKey })),
    ),
    events: SUBSCRIBED_EVENTS.map((code) => ({ code, handlerPath: EVENTS_PATH })),
  };
}

/** The default app's bindings for one deployment (benches and tests compare against them). */
export function desiredBindings(publicUrl: string, blockCodes: string[], lang: string): DesiredBinding[] {
  return desiredBindingsOf(appManifest(PLACEMENT_MODULES, blockCodes), publicUrl, lang);
}
