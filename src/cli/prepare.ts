// Before a command touches the database: apply pending migrations, as `npm start` does, so the
// CLI on a never-migrated database works instead of failing on a missing table.
import type { Config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { redactUrl } from '../db/url.js';
import { type CliStreams, line } from './io.js';

/** True when the database is ready; otherwise one line says why and what to run. */
export async function prepareDatabase(config: Config, io: CliStreams): Promise<boolean> {
  try {
    const result = await migrate(config.databaseUrl);
    if (result.applied.length) line(io.stderr, `database migrated: ${result.applied.join(', ')}`);
    return true;
  } catch (error) {
    line(
      io.stderr,
      `error: cannot prepare the database at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}; fix that, then run npm run db:migrate`,
    );
    return false;
  }
}
