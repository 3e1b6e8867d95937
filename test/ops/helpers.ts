// Shared by the ops suites: a stack with several installed portals, the CLI run in-process
// against the same database with its own services (as a second process would), and a
// Prometheus text reader.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { EmulatorOptions } from 'bitrix24-emulator';
import { runCli } from '../../src/cli/main.js';
import { type Stack, startStack } from '../helpers/stack.js';

export const MEMBER_IDS = [
  '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  'f9e8d7c6b5a4938271605f4e3d2c1b0a',
  'abcdefabcdefabcdefabcdefabcdef01',
];

export interface OpsStack extends Stack {
  /** The key the stack's app encrypts with (hex). */
  key: string;
  /** The environment a CLI process would have next to this app. */
  env: Record<string, string>;
}

export async function startOpsStack(
  options: { portals?: string[]; env?: Record<string, string>; emulator?: EmulatorOptions } = {},
): Promise<OpsStack> {
  const key = randomBytes(32).toString('hex');
  const env = { TOKEN_ENCRYPTION_KEY: key, LOG_LEVEL: 'warn', ...options.env };
  const stack = await startStack({
    emulator: {
      portals: (options.portals ?? MEMBER_IDS).map((memberId) => ({ memberId })),
      ...options.emulator,
    },
    env,
  });
  for (const memberId of options.portals ?? MEMBER_IDS) {
    const res = await stack.emulator.installApp(memberId, { lang: 'en' });
    if (res.status !== 200) throw new Error(`install on ${memberId} answered ${res.status}`);
  }
  const credentials = stack.emulator.apps[0]!;
  return Object.assign(stack, {
    key,
    env: {
      NODE_ENV: 'test',
      PUBLIC_URL: stack.appUrl,
      B24_CLIENT_ID: credentials.clientId,
      B24_CLIENT_SECRET: credentials.clientSecret,
      B24_OAUTH_URL: stack.emulator.oauthUrl,
      B24_ALLOW_HTTP: 'true',
      DATABASE_URL: stack.testDb.url,
      ...env,
    },
  });
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, with its own services and database connection. */
export async function cli(
  stack: OpsStack,
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, {
    env: { ...stack.env, ...env },
    io: { stdout, stderr },
    deps: { now: () => stack.emulator.clock.now() },
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the CLI in this process with exactly this environment (no stack: a database of its own). */
export async function cliWithEnv(argv: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { env, io: { stdout, stderr } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The sum of the samples of `name` whose labels include `labels` (0 when none was written). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[4]);
  }
  return sum;
}
