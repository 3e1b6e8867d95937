// What the app binds on a portal and subscribes to, as plain data: the installer takes it as
// input (built from the placement modules by placements/registry.ts) and turns it into the
// bindings of one deployment (PUBLIC_URL) in the installer's language.
import { translator } from '../i18n.js';

export interface AppManifest {
  /** landing.repo.bind: each placement code, the path Bitrix24 POSTs to, the catalog key of its title. */
  placements: readonly { code: string; handlerPath: string; titleKey: string }[];
  /** event.bind: each event and the path that receives it. */
  events: readonly { code: string; handlerPath: string }[];
}

export interface DesiredBinding {
  kind: 'placement' | 'event';
  code: string;
  handler: string;
  title: string | null;
}

/** What should be bound on a portal for this deployment (PUBLIC_URL) in the installer's language. */
export function desiredBindingsOf(manifest: AppManifest, publicUrl: string, lang: string): DesiredBinding[] {
  const t = translator(lang);
  return [
    ...manifest.placements.map((p) => ({
      kind: 'placement' as const,
      code: p.code,
      handler: `${publicUrl}${p.handlerPath}`,
      title: t(p.titleKey),
    })),
    ...manifest.events.map((e) => ({
      kind: 'event' as const,
      code: e.code,
      handler: `${publicUrl}${e.handlerPath}`,
      title: null,
    })),
  ];
}
