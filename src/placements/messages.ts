import { isBitrix24Error } from '../bitrix24/errors.js';
import type { Translate } from '../i18n.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  code?: string;
}

/** A Bitrix24 failure as a sentence the user understands, in their language. */
export function explainFailure(error: unknown, t: Translate): Flash {
  if (!isBitrix24Error(error)) throw error;
  const key = `b24.${error.code}`;
  const text = t(key);
  return {
    kind: 'error',
    code: error.code,
    text: text === key ? t('b24.unknown', { code: error.code }) : text,
  };
}
