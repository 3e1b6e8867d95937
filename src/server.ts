// Production entry: config from the environment, migrations, then listen.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { redactUrl } from './db/url.js';

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
  const app = await buildApp(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  await app.listen({ host: config.host, port: config.port });
}

await main();
