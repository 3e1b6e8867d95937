import { mkdirSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { PrismaClient as PgPrismaClient } from '../generated/prisma-pg/client.js';
import { ReusingBetterSqlite3 } from './sqlite-statements.js';
import { type Provider, providerOf, sqliteDir, sqliteFile } from './url.js';

/**
 * Both generated clients come from one model definition, so their model APIs are identical;
 * the rest of the code is typed against the SQLite one.
 */
export type Db = PrismaClient;
export type { Provider };

export interface DbOptions {
  /** PostgreSQL pool size per process. */
  poolSize?: number;
  /** SQLite: how long a writer waits for the lock before SQLITE_BUSY, in ms. */
  busyTimeoutMs?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): { db: Db; provider: Provider } {
  const provider = providerOf(databaseUrl);
  if (provider === 'sqlite') {
    const file = sqliteFile(databaseUrl);
    if (file !== ':memory:') mkdirSync(sqliteDir(databaseUrl), { recursive: true });
    const adapter = new ReusingBetterSqlite3({ url: file, timeout: options.busyTimeoutMs ?? 5000 });
    return { db: new PrismaClient({ adapter }), provider };
  }
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return { db: new PgPrismaClient({ adapter }) as unknown as Db, provider };
}
