import { type CheckOutcome, checkInstallations, checkTargets } from '../../admin/check.js';
import { findPortal } from '../../admin/ops.js';
import { type Command, EXIT, line } from '../io.js';
import { startProgress } from '../progress.js';
import { renderTable } from '../table.js';

const ADVICE: Record<CheckOutcome, string> = {
  ok: 'tokens accepted',
  needs_reinstall: "the portal's admin must reinstall the app",
  payment_required: "the portal's admin must renew the app's subscription",
  unreachable: 'try again later',
  error: 'see the detail',
};

export const check: Command = {
  name: 'check',
  usage: 'check [--portal <member_id>]',
  summary: 'call app.info with the stored tokens; report which portals need a reinstall',
  portal: 'optional',
  async run({ ops, io }, { portal }) {
    const only = portal ? await findPortal(ops.store, portal) : undefined;
    const targets = await checkTargets(ops, only);
    if (targets.length === 0) {
      line(io.stdout, 'no installations to check');
      return EXIT.ok;
    }
    const progress = startProgress(io, 'check', targets.length);
    const results = await checkInstallations(ops, targets, (r) => progress.tick(r.outcome !== 'ok')).finally(
      () => progress.stop(),
    );
    line(
      io.stdout,
      renderTable(
        ['MEMBER_ID', 'DOMAIN', 'RESULT', 'DETAIL'],
        results.map((r) => [r.memberId, r.domain, r.outcome, r.detail ?? ADVICE[r.outcome]]),
      ),
    );
    const count = (outcome: CheckOutcome) => results.filter((r) => r.outcome === outcome).length;
    const reinstall = count('needs_reinstall') + count('payment_required');
    const unchecked = count('unreachable') + count('error');
    line(
      io.stdout,
      `${count('ok')} ok, ${reinstall} need a reinstall, ${unchecked} could not be checked (of ${results.length})`,
    );
    if (unchecked) return EXIT.failed;
    return reinstall ? EXIT.needsReinstall : EXIT.ok;
  },
};
