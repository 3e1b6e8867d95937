import { formatTime } from '../../admin/format.js';
import { type Command, EXIT, line } from '../io.js';
import { clip, renderTable } from '../table.js';

export const installations: Command = {
  name: 'installations',
  usage: 'installations',
  summary: 'list every installation: member_id, domain, status, token expiry, last refresh, last error',
  portal: 'none',
  async run({ ops, io }) {
    const rows = await ops.store.summaries();
    if (rows.length === 0) {
      line(io.stdout, 'no installations');
      return EXIT.ok;
    }
    const table = renderTable(
      ['MEMBER_ID', 'DOMAIN', 'STATUS', 'TOKEN_EXPIRES', 'LAST_REFRESH', 'LAST_ERROR'],
      rows.map((r) => [
        r.memberId,
        r.domain,
        r.status,
        formatTime(r.tokenExpiresAt),
        formatTime(r.tokenRefreshedAt),
        r.lastError ? `${formatTime(r.lastErrorAt)} ${clip(r.lastError)}` : '-',
      ]),
    );
    line(io.stdout, table);
    return EXIT.ok;
  },
};
