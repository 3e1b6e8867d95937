// Prepared statements reused on SQLite. Prisma's better-sqlite3 adapter prepares every query
// anew (`prepare(sql).bind(args)`), so SQLite parses each long generated statement again: 7-8 %
// of the app's CPU per install in the install benchmark's profile. Prisma generates the same
// text for the same query shape, so statements are kept by their text and run with each call's
// parameters (a better-sqlite3 statement binds parameters only once, so `bind` is kept here).

import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import type { Database, Statement } from 'better-sqlite3';

/** Distinct statement texts kept per connection (IN lists and batch inserts vary in length). */
export const KEPT_STATEMENTS = 256;

/** A kept statement as one call sees it: its own parameters and row mode, the shared compiled statement. */
class CallStatement {
  private rawRows = false;

  constructor(
    private readonly statement: Statement,
    private readonly params: unknown[] = [],
  ) {}

  get reader(): boolean {
    return this.statement.reader;
  }

  get source(): string {
    return this.statement.source;
  }

  bind(...params: unknown[]): CallStatement {
    return new CallStatement(this.statement, params);
  }

  raw(toggle = true): this {
    this.rawRows = toggle;
    return this;
  }

  columns() {
    return this.statement.columns();
  }

  run() {
    return this.statement.run(...this.params);
  }

  get() {
    return this.rows().get(...this.params);
  }

  all() {
    return this.rows().all(...this.params);
  }

  /** The shared statement in this call's row mode (set on every call: another call may have changed it). */
  private rows(): Statement {
    return this.statement.raw(this.rawRows);
  }
}

/**
 * Makes `db.prepare` answer kept statements: the most recently used KEPT_STATEMENTS texts are
 * compiled once. Only `bind`, `run`, `get`, `all`, `raw`, `columns`, `reader` and `source` are
 * offered: what the adapter uses.
 */
export function reuseStatements(db: Database, kept = KEPT_STATEMENTS): void {
  const prepare = db.prepare.bind(db);
  const statements = new Map<string, Statement>();
  const reused = (sql: string): CallStatement => {
    let statement = statements.get(sql);
    if (statement) {
      statements.delete(sql);
    } else {
      statement = prepare(sql);
      if (statements.size >= kept) statements.delete(statements.keys().next().value!);
    }
    statements.set(sql, statement);
    return new CallStatement(statement);
  };
  db.prepare = reused as unknown as Database['prepare'];
}

/** Prisma's better-sqlite3 adapter whose connections reuse their prepared statements. */
export class ReusingBetterSqlite3 extends PrismaBetterSqlite3 {
  override async connect(): Promise<SqlDriverAdapter> {
    const adapter = await super.connect();
    reuseStatements((adapter as unknown as { client: Database }).client);
    return adapter;
  }
}
