// Every error code a portal (or its OAuth server) can answer to our calls is a sentence in
// every language, and a code we do not know still reads as a sentence: Bitrix24's own
// description with the code, or a generic one with the code.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { B24_ERROR_CODES, bitrix24Error } from '../../src/bitrix24/errors.js';
import { translator } from '../../src/i18n.js';
import { explainFailure } from '../../src/placements/messages.js';
import { DOCUMENTED_ERROR_CODES } from './fixtures/documented-error-codes.js';

const LOCALES = join(import.meta.dirname, '../../views/locales');
const SEEDS = '/work/shared/seeds';
const LANGS = ['en', 'ru', 'de'];

const catalog = (lang: string): Record<string, string> =>
  JSON.parse(readFileSync(join(LOCALES, `${lang}.json`), 'utf8'));

/** Codes in the seeds' error sections: `"error": "X"` examples, status-led rows, CODE_NAMES. */
function seedCodes(): string[] {
  const codes = new Set<string>();
  for (const file of readdirSync(SEEDS).filter((f) => f.endsWith('.txt'))) {
    const text = readFileSync(join(SEEDS, file), 'utf8');
    const at = text.indexOf('Error Handling');
    if (at < 0) continue;
    const part = text.slice(at);
    for (const m of part.matchAll(/"error"\s*:\s*"([^"]+)"/g)) codes.add(m[1]!);
    for (const m of part.matchAll(/\b\d{3}\s+([A-Za-z][A-Za-z]*_[A-Za-z_]+)\b/g)) codes.add(m[1]!);
    for (const m of part.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)) codes.add(m[0]);
  }
  return [...codes].sort();
}

describe('error sentences', () => {
  it.runIf(existsSync(SEEDS))('the docs list holds every code the seeds name', () => {
    const found = seedCodes();
    expect(found.length).toBeGreaterThan(15);
    expect(found.filter((code) => !(code in DOCUMENTED_ERROR_CODES))).toEqual([]);
  });

  it('every documented code and every classified code has a sentence in en, ru and de', () => {
    const codes = new Set([...Object.keys(DOCUMENTED_ERROR_CODES), ...Object.keys(B24_ERROR_CODES)]);
    expect(codes.size).toBeGreaterThan(50);
    for (const lang of LANGS) {
      const texts = catalog(lang);
      const missing = [...codes].filter((code) => !texts[`b24.${code}`]?.trim());
      expect({ lang, missing }).toEqual({ lang, missing: [] });
    }
  });

  it('each documented code names where the docs list it', () => {
    for (const [code, sources] of Object.entries(DOCUMENTED_ERROR_CODES)) {
      expect({ code, sources: sources.length > 0 }).toEqual({ code, sources: true });
    }
  });

  it('the fallback sentences exist in every language with their placeholders', () => {
    for (const lang of LANGS) {
      const texts = catalog(lang);
      expect(texts['b24.unknown']).toContain('{code}');
      expect(texts['b24.described']).toContain('{code}');
      expect(texts['b24.described']).toContain('{description}');
      expect(texts['b24.HTTP']).toContain('{status}');
    }
  });
});

const fail = (code: string, description: string, status = 400) =>
  bitrix24Error({ code, status, description, method: 'landing.site.markDelete' });

describe('explainFailure', () => {
  const en = translator('en');
  const de = translator('de');

  it('a known code reads as our sentence, not as the portal’s description', () => {
    const flash = explainFailure(fail('ACCESS_DENIED_DELETED', 'Some developer text'), en);
    expect(flash).toEqual({
      kind: 'error',
      code: 'ACCESS_DENIED_DELETED',
      text: 'This portal uses a domain provider; sites cannot be deleted.',
    });
    expect(explainFailure(fail('AccessException', ''), de).text).toBe(
      'Nur ein Portaladministrator kann die Einstellungen der App ändern.',
    );
  });

  it('an unknown code with a description shows the description and the code', () => {
    const flash = explainFailure(fail('SITE_LOCKED_BY_EDITOR', 'The site is being edited by Anna.'), en);
    expect(flash.code).toBe('SITE_LOCKED_BY_EDITOR');
    expect(flash.text).toBe(
      'Bitrix24 refused the action: “The site is being edited by Anna.” (SITE_LOCKED_BY_EDITOR).',
    );
    expect(explainFailure(fail('SITE_LOCKED_BY_EDITOR', 'Gesperrt.'), de).text).toBe(
      'Bitrix24 hat die Aktion abgelehnt: „Gesperrt.“ (SITE_LOCKED_BY_EDITOR).',
    );
  });

  it('an empty code with a description (the docs allow it) still shows the description', () => {
    const flash = explainFailure(fail('', 'Only the description explains it.'), en);
    expect(flash.text).toBe('Bitrix24 refused the action: “Only the description explains it.” (—).');
  });

  it('a description is one line, without secrets, and cut when long', () => {
    const noisy = explainFailure(fail('NEW_CODE', 'line one\n\tline two ?auth=abc123&x=1'), en).text;
    expect(noisy).toBe('Bitrix24 refused the action: “line one line two ?auth=[redacted]&x=1” (NEW_CODE).');
    const long = explainFailure(fail('NEW_CODE', 'x'.repeat(1000)), en).text;
    expect(long).toContain(`${'x'.repeat(299)}…”`);
    expect(long).not.toContain('x'.repeat(300));
  });

  it('with neither a known code nor a description: a generic sentence with the code', () => {
    expect(explainFailure(fail('NEW_CODE', '   '), en).text).toBe('Bitrix24 refused the action (NEW_CODE).');
    expect(explainFailure(fail('', ''), en).text).toBe('Bitrix24 refused the action (—).');
  });

  it('an error answer without any code reads as its HTTP status', () => {
    const flash = explainFailure(fail('HTTP_502', 'HTTP 502 without an error code', 502), en);
    expect(flash.text).toBe('The portal answered with HTTP error 502 and no explanation. Try again later.');
  });

  it('a code in another case is found as errors.ts classifies it', () => {
    expect(explainFailure(fail('Access_Denied', ''), en).text).toBe(en('b24.ACCESS_DENIED'));
  });

  it('anything but a Bitrix24 error is rethrown', () => {
    const boom = new Error('boom');
    expect(() => explainFailure(boom, en)).toThrow(boom);
  });
});
