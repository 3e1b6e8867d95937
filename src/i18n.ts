// One catalog file per language in views/locales; English is the fallback for missing keys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VIEWS_DIR } from './paths.js';

export const DEFAULT_LANG = 'en';
type Catalog = Record<string, string>;

const catalogs: Record<string, Catalog> = Object.fromEntries(
  readdirSync(join(VIEWS_DIR, 'locales'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.slice(0, -5), JSON.parse(readFileSync(join(VIEWS_DIR, 'locales', f), 'utf8')) as Catalog]),
);

/** Bitrix24's LANG (`de`, `ua`, `br`...) to a language we have, falling back to English. */
export function resolveLang(lang: string | undefined | null): string {
  const base = (lang ?? '').toLowerCase().slice(0, 2);
  if (base in catalogs) return base;
  if (base === 'ua' || base === 'by' || base === 'kz') return catalogs.ru ? 'ru' : DEFAULT_LANG;
  return DEFAULT_LANG;
}

export type Translate = (key: string, params?: Record<string, string | number>) => string;

/** One translate function per language, made once. */
const translators = new Map<string, Translate>();

export function translator(lang: string): Translate {
  const resolved = resolveLang(lang);
  let translate = translators.get(resolved);
  if (!translate) {
    const catalog = catalogs[resolved] ?? {};
    const fallback = catalogs[DEFAULT_LANG] ?? {};
    translate = (key, params) => {
      const template = catalog[key] ?? fallback[key] ?? key;
      return params
        ? template.replace(/\{(\w+)\}/g, (m, name: string) => String(params[name] ?? m))
        : template;
    };
    translators.set(resolved, translate);
  }
  return translate;
}
