import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, type Db, type Provider } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createTempPgDatabase } from './postgres.js';

/** Which database the suites run on: `npm test` → SQLite, `npm run test:pg` → PostgreSQL. */
export const TEST_PROVIDER: Provider = process.env.TEST_DATABASE === 'postgres' ? 'postgresql' : 'sqlite';

export interface TestDatabase {
  url: string;
  provider: Provider;
  /** A second, independent client on the same database: plays another app process. */
  connect(): Db;
  db: Db;
  close(): Promise<void>;
}

/** A fresh, migrated database of the suite's provider (or the one asked for). */
export async function createTestDatabase(provider: Provider = TEST_PROVIDER): Promise<TestDatabase> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'b24-test-'));
    url = `file:${join(dir, 'test.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const temp = await createTempPgDatabase();
    url = temp.url;
    cleanup = temp.drop;
  }
  await migrate(url);
  const clients: Db[] = [];
  const connect = () => {
    const { db } = createDb(url);
    clients.push(db);
    return db;
  };
  return {
    url,
    provider,
    connect,
    db: connect(),
    async close() {
      await Promise.all(clients.map((c) => c.$disconnect()));
      await cleanup();
    },
  };
}
