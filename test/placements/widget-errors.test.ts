// What a widget action shows when the portal refuses: our sentence for a documented code
// (AccessException from app.option.set), Bitrix24's own description for one we do not know.
import { describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import { bitrix24Error } from '../../src/bitrix24/errors.js';
import { SYSPAGE_TYPES } from '../../src/bitrix24/landing-methods.js';
import { translator } from '../../src/i18n.js';
import { runSettingsAction, type SettingsView } from '../../src/placements/settings.js';

const view: SettingsView = {
  siteId: 30,
  scope: null,
  site: { id: 30, title: 'Demo Store', code: 'demo-store', deleted: false },
  pages: [{ id: 30, title: 'Home' }],
  special: [],
  offeredTypes: [...SYSPAGE_TYPES],
  allTypes: SYSPAGE_TYPES,
};

/** A client whose app.option.set is refused with the given answer. */
const refusing = (code: string, description: string) =>
  ({
    app: {
      option: {
        set: async () => {
          throw bitrix24Error({ code, status: 400, description, method: 'app.option.set' });
        },
      },
    },
  }) as unknown as Bitrix24Client;

const saveOptions = (client: Bitrix24Client, lang: string) =>
  runSettingsAction(client, view, { action: 'options', offer_cart: 'yes' }, translator(lang), async () => {
    throw new Error('nothing may be saved after a refusal');
  });

describe('settings action refused by the portal', () => {
  it('AccessException (app.option.set by a non-admin) is a sentence in every language', async () => {
    const client = refusing('AccessException', 'Administrator authorization required');
    expect(await saveOptions(client, 'en')).toEqual({
      kind: 'error',
      code: 'AccessException',
      text: "Only a portal administrator can change the app's settings.",
    });
    expect((await saveOptions(client, 'ru')).text).toBe(
      'Изменять настройки приложения может только администратор портала.',
    );
    expect((await saveOptions(client, 'de')).text).toBe(
      'Nur ein Portaladministrator kann die Einstellungen der App ändern.',
    );
  });

  it('an unknown code shows Bitrix24’s description with the code', async () => {
    const flash = await saveOptions(refusing('OPTIONS_LOCKED', 'Options are locked by another app.'), 'en');
    expect(flash).toEqual({
      kind: 'error',
      code: 'OPTIONS_LOCKED',
      text: 'Bitrix24 refused the action: “Options are locked by another app.” (OPTIONS_LOCKED).',
    });
  });
});
