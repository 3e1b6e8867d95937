// Production entry: config from the environment, migrations, then listen.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { redactUrl } from './db/url.js';
import { KeyFileError } from './installations/key-file.js';

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      console.error('See .env.example for every variable.');
      process.exit(78);
    }
    throw error;
  }
  try {
    const result = await migrate(config.databaseUrl);
    if (result.applied.length) console.log(`database migrated: ${result.applied.join(', ')}`);
  } catch (error) {
    console.error(
      `cannot prepare the database at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`,
    );
    process.exit(1);
  }
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config);
  } catch (error) {
    // The token key file (installations/key-file.ts) unusable: one line saying what to do.
    if (!(error instanceof KeyFileError)) throw error;
    console.error(error.message);
    process.exit(78);
  }
  // Graceful stop: no new connections, requests in flight (with the token refreshes they wait
  // for) finish, then the onClose hooks close the database. A second signal, or the timeout,
  // ends the process at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    app.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.listen({ host: config.host, port: config.port });
  // Background work only in the server (not in tests or the CLI, which build the same app).
  if (config.bitrix24.keepAlive.intervalMs > 0) app.keepAlive.start();
}

await main();
