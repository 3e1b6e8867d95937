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
