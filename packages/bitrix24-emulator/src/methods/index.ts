import { appMethods } from './app.js';
import { eventMethods } from './events.js';
import { landingPageMethods } from './landing-page.js';
import { landingRepoMethods } from './landing-repo.js';
import { landingSiteMethods } from './landing-site.js';
import { syspageMethods } from './syspage.js';
import type { MethodDef } from './types.js';

/** Method names are case-insensitive in Bitrix24 (docs write both getList and getlist). */
export const METHODS: ReadonlyMap<string, MethodDef> = new Map(
  Object.entries({
    ...landingRepoMethods,
    ...landingSiteMethods,
    ...landingPageMethods,
    ...syspageMethods,
    ...appMethods,
    ...eventMethods,
  }).map(([name, def]) => [name.toLowerCase(), def]),
);

export type { AuthInfo, MethodContext, MethodDef } from './types.js';
