// What the operations (CLI and /admin) need from the app's services, named once so both take
// the same instances createServices wires: no second copy of the wiring.
import type { Bitrix24ClientFactory } from '../bitrix24/client-factory.js';
import type { Installer } from '../installations/installer.js';
import type { TokenManager } from '../installations/tokens.js';
import type { Installation, InstallationRecords, SecretResealer } from '../installations/types.js';

export interface OpsServices {
  /** Operations read and mark installations, and re-seal secrets; tokens go through `tokens`. */
  store: InstallationRecords & SecretResealer;
  installer: Pick<Installer, 'bind'>;
  clients: Pick<Bitrix24ClientFactory, 'forInstallation' | 'limits'>;
  tokens: Pick<TokenManager, 'forget'>;
}

/** From the app's services: the HTTP app (decorated with them) or createServices' answer (the CLI). */
export function opsServices(services: {
  installations: OpsServices['store'];
  installer: OpsServices['installer'];
  clients: OpsServices['clients'];
  tokens: OpsServices['tokens'];
}): OpsServices {
  return {
    store: services.installations,
    installer: services.installer,
    clients: services.clients,
    tokens: services.tokens,
  };
}

/** An operation asked for something that cannot be done (unknown portal, wrong status...). */
export class OpsError extends Error {
  override name = 'OpsError';
}

/** The installation with this member_id, or an OpsError naming it. */
export async function findPortal(
  store: Pick<InstallationRecords, 'find'>,
  memberId: string,
): Promise<Installation> {
  const installation = await store.find(memberId);
  if (!installation) throw new OpsError(`no installation with member_id ${memberId}`);
  return installation;
}

/** Runs `work` on every item, at most `limit` at once; results keep the items' order. */
export async function mapLimited<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
