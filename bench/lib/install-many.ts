// Installing the app on many emulated portals at once, the way admins would: each portal sends
// its install POST (the app verifies the tokens and binds everything in it), then signals
// installFinish. Afterwards the emulator's own state says whether every binding is really there.
import type { EmulatorHandle } from 'bitrix24-emulator';
import { desiredBindings } from '../../src/placements/registry.js';
import { pool } from './pool.js';

export interface InstallFailure {
  memberId: string;
  status: number;
  body: string;
}

/** Installs on every portal, `concurrency` at a time; returns the installs the app refused. */
export async function installConcurrently(
  emulator: EmulatorHandle,
  members: readonly string[],
  concurrency: number,
): Promise<InstallFailure[]> {
  const failures: InstallFailure[] = [];
  await pool(members, concurrency, async (memberId) => {
    const answer = await emulator.installApp(memberId).catch((e: Error) => ({ status: 0, body: e.message }));
    if (answer.status === 200) emulator.finishInstall(memberId);
    else failures.push({ memberId, status: answer.status, body: answer.body.slice(0, 300) });
  });
  return failures;
}

/**
 * Portals where the app's bindings are not exactly what it wants (each desired placement and
 * event once, with its handler) or installFinish was not signalled.
 */
export function incompleteInstalls(
  emulator: EmulatorHandle,
  members: readonly string[],
  publicUrl: string,
): string[] {
  const want = desiredBindings(publicUrl, [], 'en');
  const clientId = emulator.apps[0]!.clientId;
  return members.filter((memberId) => {
    const app = emulator.state.portal(memberId).apps.get(clientId);
    if (!app?.installed || !app.installFinished) return true;
    return !want.every((b) => {
      const found =
        b.kind === 'event'
          ? app.events.filter((e) => e.event === b.code && e.handler === b.handler)
          : app.placements.filter((p) => p.placement === b.code && p.handler === b.handler);
      return found.length === 1;
    });
  });
}
