// A fresh database per phase (a SQLite file in a temp dir, or a temp PostgreSQL database made
// as test/helpers/postgres.ts does, starting the local cluster if it is down), and a read of
// what the app stored: the harness judges installations by the app's own rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createTempPgDatabase } from '../../test/helpers/postgres.js';

export type DbKind = 'sqlite' | 'postgresql';

export interface InstallationRow {
  memberId: string;
  status: string;
  lastError: string | null;
  hasToken: boolean;
  healCount: number;
}

export interface FreshDb {
  kind: DbKind;
  url: string;
  /** The database's name (PostgreSQL), for the outage's ALTER DATABASE / pg_terminate_backend. */
  name: string | null;
  rows(): Promise<Map<string, InstallationRow>>;
  drop(): Promise<void>;
}

const SQL = `SELECT i."memberId", i."status", i."lastError", i."healCount", t."installationId" AS "tokenOf"
  FROM "Installation" i LEFT JOIN "OAuthToken" t ON t."installationId" = i."id"`;

interface RawRow {
  memberId: string;
  status: string;
  lastError: string | null;
  healCount: number | null;
  tokenOf: number | null;
}

const toMap = (rows: RawRow[]) =>
  new Map(
    rows.map((r) => [
      r.memberId,
      {
        memberId: r.memberId,
        status: r.status,
        lastError: r.lastError,
        hasToken: r.tokenOf !== null,
        healCount: Number(r.healCount ?? 0),
      },
    ]),
  );

export async function freshDb(kind: DbKind, label: string): Promise<FreshDb> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `chaos-${label}-`));
    const file = join(dir, 'app.db');
    return {
      kind,
      url: `file:${file}`,
      name: null,
      async rows() {
        // Read-only beside the running app (WAL): never takes the app's write lock.
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          db.pragma('busy_timeout = 5000');
          return toMap(db.prepare(SQL).all() as RawRow[]);
        } finally {
          db.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const temp = await createTempPgDatabase(`chaos_${label}`);
  return {
    kind,
    url: temp.url,
    name: new URL(temp.url).pathname.slice(1),
    async rows() {
      const client = new pg.Client({ connectionString: temp.url });
      await client.connect();
      try {
        return toMap((await client.query<RawRow>(SQL)).rows);
      } finally {
        await client.end();
      }
    },
    drop: temp.drop,
  };
}
