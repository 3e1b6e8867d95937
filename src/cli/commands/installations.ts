import { formatTime } from '../../admin/format.js';
import { refreshTokenReceivedAt } from '../../installations/keepalive.js';
import type { InstallationSummary } from '../../installations/types.js';
import { type Command, EXIT, line } from '../io.js';
import { clip, renderTable } from '../table.js';

export const installations: Command = {
  name: 'installations',
  usage: 'installations',
  summary:
    "list every installation: member_id, domain, status, token expiry, when its refresh token was renewed (age in days; the keep-alive renews it before it dies), how often an administrator's visit healed it, last error",
  portal: 'none',
  async run({ ops, io }) {
    const rows = await ops.store.summaries();
    if (rows.length === 0) {
      line(io.stdout, 'no installations');
      return EXIT.ok;
    }
    const table = renderTable(
      ['MEMBER_ID', 'DOMAIN', 'STATUS', 'TOKEN_EXPIRES', 'REFRESH_TOKEN_RENEWED', 'HEALED', 'LAST_ERROR'],
      rows.map((r) => [
        r.memberId,
        r.domain,
        r.status,
        formatTime(r.tokenExpiresAt),
        renewed(r),
        String(r.healCount),
        r.lastError ? `${formatTime(r.lastErrorAt)} ${clip(r.lastError)}` : '-',
      ]),
    );
    line(io.stdout, table);
    const healed = rows.filter((r) => r.healCount > 0).length;
    line(io.stdout, `healed by an administrator's visit: ${healed} of ${rows.length} portal(s)`);
    return EXIT.ok;
  },
};

/** `2026-12-04 18:00:00Z (12d)`: when the stored refresh token was received, and its age. */
function renewed(row: InstallationSummary): string {
  const at = row.tokenExpiresAt ? refreshTokenReceivedAt(row) : null;
  if (!at) return '-';
  const days = Math.max(0, Math.floor((Date.now() - at.getTime()) / 86_400_000));
  return `${formatTime(at)} (${days}d)`;
}
