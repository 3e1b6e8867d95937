import { forgetPortal } from '../../admin/forget.js';
import { type Command, EXIT, line } from '../io.js';

export const uninstall: Command = {
  name: 'uninstall',
  usage: 'uninstall --portal <member_id>',
  summary: 'forget a portal locally (tokens, bindings, options); nothing is sent to the portal',
  portal: 'required',
  async run({ ops, io }, { portal }) {
    await forgetPortal(ops, portal!);
    line(io.stdout, `forgot portal ${portal}`);
    return EXIT.ok;
  },
};

/**
 * The operator's word after an unprovable ONAPPUNINSTALL (`uninstall_reported`): deletes the
 * portal's rows. Same action as `uninstall`, named for that case.
 */
export const purge: Command = {
  ...uninstall,
  name: 'purge',
  usage: 'purge --portal <member_id>',
  summary: "delete a portal's data (tokens, bindings, options), e.g. after an unproven uninstall",
  async run({ ops, io }, { portal }) {
    await forgetPortal(ops, portal!);
    line(io.stdout, `purged portal ${portal}`);
    return EXIT.ok;
  },
};
