// The app under test: its production build (dist/server.js) as a child process on loopback,
// started through bench/lib/child.ts, killed with SIGKILL and started again on the same port,
// database and encryption key, as a supervisor would restart it.
import { randomBytes } from 'node:crypto';
import { type ServerProcess, type StartOptions, startServer } from '../../bench/lib/child.js';
import { freePort } from '../../test/helpers/net.js';
import type { ChaosEmulator } from './emulator.js';

/** Relative path spelled so that bench/lib/child.ts does not rebuild: run.ts builds once with `npm run build`. */
const ENTRY = './dist/server.js';

export interface AppOptions {
  emulator: Pick<ChaosEmulator, 'oauthUrl' | 'app'>;
  databaseUrl: string;
  /** The URL bindings point at (replicas share one, as behind a load balancer); default: this process's own. */
  publicUrl?: string;
  /** Same key for every process and restart: tokens stored by one must be read by the next. */
  encryptionKey: string;
  adminToken: string;
  limits: { bucketSize: number; drainPerSecond: number };
  extraEnv?: Record<string, string>;
  nodeFlags?: string[];
}

export interface AppProcess {
  readonly url: string;
  readonly port: number;
  /** Null while the process is down. */
  current(): ServerProcess | null;
  start(): Promise<void>;
  /** kill -9 and wait until the process is gone. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export const newKey = () => randomBytes(32).toString('hex');

/** Every app process still running: killed when the harness exits, however it exits. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

export async function appProcess(options: AppOptions): Promise<AppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PUBLIC_URL: options.publicUrl ?? url,
    DATABASE_URL: options.databaseUrl,
    B24_OAUTH_URL: options.emulator.oauthUrl,
    B24_CLIENT_ID: options.emulator.app.clientId,
    B24_CLIENT_SECRET: options.emulator.app.clientSecret,
    B24_ALLOW_HTTP: 'true',
    TOKEN_ENCRYPTION_KEY: options.encryptionKey,
    ADMIN_TOKEN: options.adminToken,
    // The app paces itself to the portals' (raised) limits; our own per-client limits are lifted
    // because every request here comes from one loopback address.
    B24_RATE_LIMIT_BURST: String(options.limits.bucketSize),
    B24_RATE_LIMIT_PER_SECOND: String(options.limits.drainPerSecond),
    RATE_LIMIT_PER_IP: '100000000',
    RATE_LIMIT_PER_PORTAL: '100000000',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.extraEnv,
  };
  const startOptions: StartOptions = { env, nodeFlags: options.nodeFlags ?? [] };
  let server: ServerProcess | null = null;
  return {
    url,
    port,
    current: () => server,
    async start() {
      if (server) throw new Error(`app on ${url} is already running`);
      server = await startServer(ENTRY, port, startOptions);
      live.add(server.pid);
    },
    async kill9() {
      if (!server) return;
      const { pid } = server;
      server = null;
      live.delete(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
      for (let i = 0; i < 1000 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 5));
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      live.delete(s.pid);
      await s.stop();
    },
  };
}
