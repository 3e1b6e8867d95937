// Parses the command line, builds the app's services exactly as the server does
// (createServices, without any HTTP), runs one command and returns its exit code.
import { parseArgs } from 'node:util';
import type { DestinationStream } from 'pino';
import { OpsError, opsServices } from '../admin/ops.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, type Db, type Provider } from '../db/client.js';
import { KeyFileError } from '../installations/key-file.js';
import { createLogger } from '../logger.js';
import { createServices, type Services } from '../services.js';
import { check } from './commands/check.js';
import { installations } from './commands/installations.js';
import { PROBE, runProbeCommand } from './commands/probe.js';
import { rebind } from './commands/rebind.js';
import { rotateKey } from './commands/rotate-key.js';
import { purge, uninstall } from './commands/uninstall.js';
import { DOCTOR, runDoctorCommand } from './doctor/index.js';
import { type CliStreams, type Command, EXIT, line } from './io.js';
import { prepareDatabase } from './prepare.js';

export const COMMANDS: Command[] = [installations, rebind, check, rotateKey, uninstall, purge];

/** Bitrix24 member_ids are hex; anything of another shape is a typo. */
const MEMBER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function usage(): string {
  const listed = [...COMMANDS, DOCTOR, PROBE];
  const width = Math.max(...listed.map((c) => c.usage.length));
  return [
    'usage: npm run cli -- <command> [options]   (in the Docker image: node dist/cli.js <command>)',
    '',
    'commands:',
    ...listed.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'options: --verbose (log at LOG_LEVEL instead of warnings only), -h/--help',
    'Configuration comes from the environment, as for the server (DATABASE_URL, TOKEN_ENCRYPTION_KEY, ...).',
    `exit codes: 0 ok, 1 failed, 2 portals need a reinstall (check), 64 bad arguments, 78 bad configuration`,
  ].join('\n');
}

function usageError(io: CliStreams, message: string): number {
  line(io.stderr, `error: ${message}`);
  line(io.stderr, "run 'npm run cli -- --help' for the commands");
  return EXIT.usage;
}

export interface RunCliOptions {
  env: Record<string, string | undefined>;
  io: CliStreams;
  /** Test seams, as for buildApp (the emulator's clock, a shared database client). */
  deps?: { db?: { db: Db; provider: Provider }; now?: () => number };
}

export async function runCli(argv: string[], { env, io, deps = {} }: RunCliOptions): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    line(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  // The doctor reads the configuration itself: reporting a bad one is part of its job.
  if (name === DOCTOR.name) return runDoctorCommand(rest, { env, io });
  // The probe talks to a portal's webhook only: no configuration, no database.
  if (name === PROBE.name) return runProbeCommand(rest, { io });
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return usageError(io, `unknown command '${name}'`);

  let values: { portal?: string; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        portal: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError(io, `${(error as Error).message} (usage: ${command.usage})`);
  }
  if (command.portal === 'none' && values.portal !== undefined) {
    return usageError(io, `${name} takes no --portal (usage: ${command.usage})`);
  }
  if (values.help) {
    line(io.stdout, `usage: npm run cli -- ${command.usage}\n${command.summary}`);
    return EXIT.ok;
  }
  if (command.portal === 'required' && !values.portal) {
    return usageError(io, `${name} needs --portal <member_id> (usage: ${command.usage})`);
  }
  if (values.portal !== undefined && !MEMBER_ID.test(values.portal)) {
    return usageError(io, `--portal must be a member_id (letters, digits, _ . -), got '${values.portal}'`);
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    line(io.stderr, error.message);
    line(io.stderr, 'The CLI reads the same environment as the server; see .env.example.');
    return EXIT.config;
  }

  // As `npm start` does: a database that was never migrated is migrated, not met with a stack trace.
  if (!(await prepareDatabase(config, io))) return EXIT.failed;
  const logger = createLogger(values.verbose ? config.logLevel : 'warn', io.stderr as DestinationStream);
  const database = deps.db ?? createDb(config.databaseUrl);
  let services: Services;
  try {
    services = createServices(config, { ...database, log: logger, ...(deps.now && { now: deps.now }) });
  } catch (error) {
    if (!deps.db) await database.db.$disconnect();
    if (!(error instanceof KeyFileError)) throw error;
    line(io.stderr, `error: ${error.message}`);
    return EXIT.config;
  }
  try {
    return await command.run(
      { ops: opsServices(services), config, io },
      values.portal ? { portal: values.portal } : {},
    );
  } catch (error) {
    // Expected refusals get one line; anything else its message (the stack only with --verbose).
    const message = error instanceof Error ? error.message : String(error);
    line(io.stderr, `error: ${message}`);
    if (values.verbose && !(error instanceof OpsError) && error instanceof Error && error.stack) {
      line(io.stderr, error.stack);
    }
    return EXIT.failed;
  } finally {
    await services.idle();
    if (!deps.db) await database.db.$disconnect();
  }
}
