import { type Bitrix24Error, isBitrix24Error } from '../bitrix24/errors.js';
import { redactSecrets } from '../bitrix24/redact.js';
import type { Translate } from '../i18n.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  code?: string;
}

/** The longest Bitrix24 description a page shows; it is written for developers and may be long. */
const MAX_DESCRIPTION = 300;

/** A Bitrix24 failure as a sentence the user understands, in their language. */
export function explainFailure(error: unknown, t: Translate): Flash {
  if (!isBitrix24Error(error)) throw error;
  return { kind: 'error', code: error.code, text: sentenceFor(error, t) };
}

/**
 * Our sentence for a code we know (exact, then upper-cased, as errors.ts classifies); else
 * Bitrix24's own `error_description` with the code (the docs allow an empty code with only a
 * description); else a generic sentence naming the code. Never "unknown error" alone.
 */
export function sentenceFor(error: Bitrix24Error, t: Translate): string {
  const code = error.code;
  if (code !== '') {
    for (const key of [`b24.${code}`, `b24.${code.toUpperCase()}`]) {
      const text = t(key);
      if (text !== key) return text;
    }
  }
  // Our transport's name for an error answer without a code; its description is our own text.
  const http = /^HTTP_(\d{3})$/.exec(code);
  if (http) return t('b24.HTTP', { status: http[1]! });
  const description = portalDescription(error.description);
  if (description) return t('b24.described', { code: code || '—', description });
  return t('b24.unknown', { code: code || '—' });
}

/** One line, no control characters, no secret-looking query values, at most MAX_DESCRIPTION. */
function portalDescription(raw: string): string {
  const line = String(redactSecrets(raw))
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
  return line.length > MAX_DESCRIPTION ? `${line.slice(0, MAX_DESCRIPTION - 1)}…` : line;
}
