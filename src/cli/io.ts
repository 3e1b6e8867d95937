// Where the CLI writes, and what its exit codes mean (also listed in README, Operations).
import type { Writable } from 'node:stream';
import type { OpsServices } from '../admin/ops.js';
import type { Config } from '../config.js';

export interface CliStreams {
  /** Results: tables and summaries (what a script would read). */
  stdout: Writable;
  /** Errors, logs and the progress bar (drawn only when this is a terminal). */
  stderr: Writable & { isTTY?: boolean };
}

export const EXIT = {
  ok: 0,
  /** Something failed: a portal could not be rebound or checked, the database is unreachable... */
  failed: 1,
  /** `check`: some portals need a reinstall (and every portal could be checked). */
  needsReinstall: 2,
  /** Bad command line. */
  usage: 64,
  /** Bad or missing configuration (as the server). */
  config: 78,
} as const;

export interface CommandContext {
  ops: OpsServices;
  config: Config;
  io: CliStreams;
}

export interface CommandArgs {
  portal?: string;
}

export interface Command {
  name: string;
  /** The command line, e.g. `rebind [--portal <member_id>]`. */
  usage: string;
  summary: string;
  /** Whether --portal is accepted, and whether it is required. */
  portal: 'none' | 'optional' | 'required';
  run(ctx: CommandContext, args: CommandArgs): Promise<number>;
}

export function line(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}
