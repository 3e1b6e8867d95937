// Forgets a portal locally: its row, tokens, bindings and options go; nothing is sent to the
// portal (use it when the portal is gone or the app was removed there without an event).
import { findPortal, type OpsServices } from './ops.js';

export async function forgetPortal(ops: OpsServices, memberId: string): Promise<void> {
  const installation = await findPortal(ops.store, memberId);
  await ops.store.delete(installation.id);
  ops.tokens.forget(installation.id);
  ops.clients.limits.delete(memberId);
}
