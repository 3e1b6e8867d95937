import { findPortal, OpsError } from '../../admin/ops.js';
import { rebindInstallations, rebindTargets } from '../../admin/rebind.js';
import { type Command, EXIT, line } from '../io.js';
import { startProgress } from '../progress.js';

export const rebind: Command = {
  name: 'rebind',
  usage: 'rebind [--portal <member_id>]',
  summary: 'bind placements and events to the current PUBLIC_URL on every active portal (or one)',
  portal: 'optional',
  async run({ ops, config, io }, { portal }) {
    const only = portal ? await findPortal(ops.store, portal) : undefined;
    if (only && only.status !== 'active') {
      throw new OpsError(`portal ${only.memberId} is ${only.status}; only active portals are rebound`);
    }
    const targets = await rebindTargets(ops, only);
    if (targets.length === 0) {
      line(io.stdout, 'no active installations to rebind');
      return EXIT.ok;
    }
    line(io.stderr, `rebinding ${targets.length} portal(s) to ${config.publicUrl}`);
    const progress = startProgress(io, 'rebind', targets.length);
    const results = await rebindInstallations(ops, targets, (r) => progress.tick(!r.ok)).finally(() =>
      progress.stop(),
    );
    const done = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    const bound = done.reduce((n, r) => n + r.bound, 0);
    const unbound = done.reduce((n, r) => n + r.unbound, 0);
    line(
      io.stdout,
      `rebound ${done.length} of ${results.length} portal(s): ${bound} handler(s) bound, ${unbound} stale unbound`,
    );
    if (failed.length) {
      line(io.stdout, `failed on ${failed.length} portal(s):`);
      for (const r of failed) line(io.stdout, `  ${r.memberId}  ${r.domain}  ${r.failures.join('; ')}`);
      return EXIT.failed;
    }
    return EXIT.ok;
  },
};
