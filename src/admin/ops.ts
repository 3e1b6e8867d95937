// What the operations (CLI and /admin) need from the app's services, named once so both take
// the same instances buildApp wires: no second copy of the wiring.
import type { FastifyInstance } from 'fastify';
import type { Bitrix24ClientFactory } from '../bitrix24/client-factory.js';
import type { Installer } from '../installations/installer.js';
import type { TokenManager } from '../installations/tokens.js';
import type { Installation, InstallationStore } from '../installations/types.js';

export interface OpsServices {
  store: InstallationStore;
  installer: Pick<Installer, 'bind'>;
  clients: Pick<Bitrix24ClientFactory, 'forInstallation' | 'limits'>;
  tokens: Pick<TokenManager, 'forget'>;
}

export function opsServices(app: FastifyInstance): OpsServices {
  return { store: app.installations, installer: app.installer, clients: app.clients, tokens: app.tokens };
}

/** An operation asked for something that cannot be done (unknown portal, wrong status...). */
export class OpsError extends Error {
  override name = 'OpsError';
}

/** The installation with this member_id, or an OpsError naming it. */
export async function findPortal(store: InstallationStore, memberId: string): Promise<Installation> {
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
