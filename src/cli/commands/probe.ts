// `npm run cli -- probe --webhook <https://portal/rest/<user>/<code>/> [--write]`: checks a real
// portal against what the app expects of it (src/admin/probe.ts). Needs no configuration or
// database: only the portal's incoming webhook.
import { parseArgs } from 'node:util';
import { formatProbe, probePortal } from '../../admin/probe.js';
import { type CliStreams, EXIT, line } from '../io.js';

export const PROBE = {
  name: 'probe',
  usage: 'probe --webhook <url> [--write]',
  summary:
    "call the REST methods the app depends on through a portal's incoming webhook and show where answers differ (--write: try a throwaway site)",
};

/** Incoming webhooks look like https://portal.bitrix24.com/rest/1/abc123/ */
const WEBHOOK = /^https?:\/\/[^/\s]+\/rest\/\d+\/[A-Za-z0-9]+\/?$/;

export async function runProbeCommand(
  argv: string[],
  { io, fetch }: { io: CliStreams; fetch?: typeof globalThis.fetch },
): Promise<number> {
  let values: { webhook?: string; write?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        webhook: { type: 'string' },
        write: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    line(io.stderr, `error: ${(error as Error).message} (usage: ${PROBE.usage})`);
    return EXIT.usage;
  }
  if (values.help) {
    line(io.stdout, `usage: npm run cli -- ${PROBE.usage}\n${PROBE.summary}`);
    return EXIT.ok;
  }
  if (!values.webhook || !WEBHOOK.test(values.webhook)) {
    // Never echo the value: a webhook URL is a credential.
    line(
      io.stderr,
      `error: --webhook must be an incoming webhook URL such as https://portal.bitrix24.com/rest/1/abc123/ (usage: ${PROBE.usage})`,
    );
    return EXIT.usage;
  }
  const checks = await probePortal(values.webhook, { write: values.write === true, fetch });
  const { lines, ok } = formatProbe(checks);
  for (const text of lines) line(io.stdout, text);
  return ok ? EXIT.ok : EXIT.failed;
}
