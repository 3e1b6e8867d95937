// `npm run cli -- doctor`: is this deployment ready for Bitrix24 to call? Reads the configuration
// itself (a bad one is a finding, not a crash), changes nothing, exits 0 only when every check passes.
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../../config.js';
import { createDb, type Db } from '../../db/client.js';
import { providerOf, redactUrl } from '../../db/url.js';
import { type CliStreams, EXIT, line } from '../io.js';
import {
  checkDatabase,
  checkHealthz,
  checkOAuthServer,
  checkPublicUrl,
  checkTokenKey,
  type Finding,
  installationSummary,
  oauthServers,
} from './checks.js';

export const DOCTOR = {
  name: 'doctor',
  usage: 'doctor',
  summary:
    'check the deployment: configuration, database and migrations, token key, PUBLIC_URL, OAuth servers, /healthz',
};

const LABEL: Record<Finding['outcome'], string> = { ok: 'ok  ', fail: 'FAIL', skip: 'skip', info: 'info' };
const TIMEOUT_MS = 5000;

function print(io: CliStreams, finding: Finding): void {
  line(io.stdout, `${LABEL[finding.outcome]}  ${finding.check.padEnd(13)}  ${finding.text}`);
}

export async function runDoctorCommand(
  argv: string[],
  { env, io }: { env: Record<string, string | undefined>; io: CliStreams },
): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      line(io.stdout, `usage: npm run cli -- ${DOCTOR.usage}\n${DOCTOR.summary}`);
      return EXIT.ok;
    }
  } catch (error) {
    line(io.stderr, `error: ${(error as Error).message} (usage: ${DOCTOR.usage})`);
    return EXIT.usage;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      print(io, {
        outcome: 'fail',
        check: 'configuration',
        text: `${problem} (set it in the environment or .env; see .env.example)`,
      });
    }
    line(io.stdout, `doctor: ${error.problems.length} problem(s); fix the configuration first`);
    return EXIT.config;
  }

  const findings: Finding[] = [];
  const report = (finding: Finding) => {
    findings.push(finding);
    print(io, finding);
  };
  report({
    outcome: 'ok',
    check: 'configuration',
    text: `NODE_ENV=${config.env}, DATABASE_URL=${redactUrl(config.databaseUrl)}`,
  });

  const database = await checkDatabase(config);
  report(database.finding);
  let db: Db | null = null;
  try {
    if (database.ready) db = createDb(config.databaseUrl, { poolSize: 1 }).db;
    report(await checkTokenKey(config, db));
    report(checkPublicUrl(config));
    const network = await Promise.all([
      ...oauthServers(config).map((url) => checkOAuthServer(url, TIMEOUT_MS)),
      checkHealthz(config, providerOf(config.databaseUrl), TIMEOUT_MS),
    ]);
    for (const finding of network) report(finding);
    if (db) report(await installationSummary(db));
  } catch (error) {
    report({ outcome: 'fail', check: 'doctor', text: `could not finish: ${(error as Error).message}` });
  } finally {
    await db?.$disconnect();
  }

  const problems = findings.filter((f) => f.outcome === 'fail').length;
  line(io.stdout, problems ? `doctor: ${problems} problem(s)` : 'doctor: all checks passed');
  return problems ? EXIT.failed : EXIT.ok;
}
