// `npm run db:migrate`: applies pending migrations to DATABASE_URL.
import { migrate } from './migrate.js';
import { redactUrl } from './url.js';

const url = process.env.DATABASE_URL ?? 'file:./data/app.db';
try {
  const result = await migrate(url);
  console.log(
    `${redactUrl(url)}: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.alreadyApplied} already applied`,
  );
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
}
