// Every placement the app binds, declared once. Adding a widget is one entry here
// (plus its route module); install, rebind and the uninstall cleanup all read this list.
import { translator } from '../i18n.js';

export interface PlacementDefinition {
  /** `LANDING_SETTINGS`, `LANDING_BLOCK_*`, or `LANDING_BLOCK_<CODE>`. */
  code: string;
  /** Path under PUBLIC_URL that Bitrix24 POSTs to when a user opens the widget. */
  handlerPath: string;
  /** Catalog key of the title shown in the Bitrix24 menu. */
  titleKey: string;
}

export const SETTINGS_PATH = '/placements/settings';
export const BLOCK_PATH = '/placements/block';

const BASE_PLACEMENTS: PlacementDefinition[] = [
  { code: 'LANDING_SETTINGS', handlerPath: SETTINGS_PATH, titleKey: 'placement.settings.title' },
  { code: 'LANDING_BLOCK_*', handlerPath: BLOCK_PATH, titleKey: 'placement.block.title' },
];

/** Events the app subscribes to with event.bind, and the path that receives them. */
export const EVENTS_PATH = '/events';
export const SUBSCRIBED_EVENTS = ['ONAPPUNINSTALL'] as const;

export function placementDefinitions(blockCodes: string[]): PlacementDefinition[] {
  return [
    ...BASE_PLACEMENTS,
    ...blockCodes.map((code) => ({
      code: `LANDING_BLOCK_${code}`.toUpperCase(),
      handlerPath: BLOCK_PATH,
      titleKey: 'placement.block.title',
    })),
  ];
}

export interface DesiredBinding {
  kind: 'placement' | 'event';
  code: string;
  handler: string;
  title: string | null;
}

/** What should be bound on a portal for this deployment (PUBLIC_URL) in the installer's language. */
export function desiredBindings(publicUrl: string, blockCodes: string[], lang: string): DesiredBinding[] {
  const t = translator(lang);
  return [
    ...placementDefinitions(blockCodes).map((p) => ({
      kind: 'placement' as const,
      code: p.code,
      handler: `${publicUrl}${p.handlerPath}`,
      title: t(p.titleKey),
    })),
    ...SUBSCRIBED_EVENTS.map((event) => ({
      kind: 'event' as const,
      code: event,
      handler: `${publicUrl}${EVENTS_PATH}`,
      title: null,
    })),
  ];
}

/** Placement codes are case-insensitive in Bitrix24 (`LANDING_BLOCK_repo_1132`). */
export function isBlockPlacement(code: string): boolean {
  return code.trim().toUpperCase().startsWith('LANDING_BLOCK_');
}

export function isSettingsPlacement(code: string): boolean {
  return code.trim().toUpperCase() === 'LANDING_SETTINGS';
}
