// Re-runs placement and event bindings (after PUBLIC_URL changed): the installer unbinds the
// recorded handlers that are no longer wanted and binds the current ones, in batch calls paced
// by the portal's rate limit.
import { isBitrix24Error } from '../bitrix24/errors.js';
import type { Installation } from '../installations/types.js';
import { mapLimited, type OpsServices } from './ops.js';

export interface RebindResult {
  memberId: string;
  domain: string;
  ok: boolean;
  bound: number;
  unbound: number;
  /** What failed: `<code> (<placement or event>)`, or the error that stopped the portal. */
  failures: string[];
}

/** Each portal has its own bucket, so several can be rebound at once without crowding one. */
const CONCURRENCY = 4;

function describeError(error: unknown): string {
  if (isBitrix24Error(error)) return `${error.code}${error.description ? `: ${error.description}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

export async function rebindInstallation(
  ops: OpsServices,
  installation: Installation,
): Promise<RebindResult> {
  const base = { memberId: installation.memberId, domain: installation.domain };
  let failures: string[];
  try {
    const report = await ops.installer.bind(installation, installation.lang ?? 'en');
    failures = report.failed.map((f) => `${f.code} (${f.binding.code})`);
    if (failures.length === 0) {
      if (installation.lastError !== null)
        await ops.store.setStatus(installation.id, installation.status, null);
      return { ...base, ok: true, bound: report.bound.length, unbound: report.unbound.length, failures };
    }
  } catch (error) {
    failures = [describeError(error)];
  }
  // Read the status again: the token manager may have marked the portal needs_reinstall meanwhile.
  const status = (await ops.store.findById(installation.id))?.status ?? installation.status;
  await ops.store.setStatus(installation.id, status, `rebind failed: ${failures.join(', ')}`);
  return { ...base, ok: false, bound: 0, unbound: 0, failures };
}

/** The installations a rebind covers: every active one, or just `only`. */
export async function rebindTargets(ops: OpsServices, only?: Installation): Promise<Installation[]> {
  return only ? [only] : (await ops.store.list()).filter((i) => i.status === 'active');
}

export async function rebindInstallations(
  ops: OpsServices,
  targets: Installation[],
  onResult?: (result: RebindResult) => void,
): Promise<RebindResult[]> {
  return mapLimited(targets, CONCURRENCY, async (installation) => {
    const result = await rebindInstallation(ops, installation);
    onResult?.(result);
    return result;
  });
}
