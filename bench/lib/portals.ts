// Real widget payloads: install the app on emulated portals (the portal's own install POST),
// then let the portal build the widget POSTs a user's click sends.
import type { EmulatorHandle } from 'bitrix24-emulator';
import type { FormRequest } from './load.js';

export const memberIds = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

export async function installAll(emulator: EmulatorHandle, members: string[]): Promise<void> {
  for (const m of members) {
    const answer = await emulator.installApp(m);
    if (answer.status !== 200)
      throw new Error(`install on ${m}: ${answer.status} ${answer.body.slice(0, 300)}`);
    emulator.finishInstall(m);
  }
}

export type WidgetPlacement = 'LANDING_SETTINGS' | 'LANDING_BLOCK_*';

/** One widget POST as the portal sends it (a fresh AUTH_ID each), ready to re-post. */
export async function widgetRequest(
  emulator: EmulatorHandle,
  memberId: string,
  placement: WidgetPlacement,
  userId?: number,
): Promise<FormRequest> {
  const open = await emulator.openPlacement(memberId, { placement, ...(userId && { userId }) });
  if (open.status !== 200)
    throw new Error(`open ${placement} on ${memberId}: ${open.status} ${open.body.slice(0, 300)}`);
  const url = new URL(open.payload.action);
  return { path: `${url.pathname}${url.search}`, body: new URLSearchParams(open.payload.body).toString() };
}
