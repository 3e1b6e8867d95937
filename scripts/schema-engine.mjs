// Drives Prisma's schema engine (the wasm build from npm) without the Rust binary the CLI
// would download. Used to write new migrations and, in tests, to prove that the migrations
// reproduce prisma/schema.prisma exactly on SQLite and on PostgreSQL.
//
//   node scripts/schema-engine.mjs diff   sqlite|postgresql   # SQL from the migrations to the schema (exit 2 on drift)
//   node scripts/schema-engine.mjs create sqlite|postgresql   # SQL for the whole schema from empty
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let ready = false;
function loadWasm() {
  if (ready) return;
  // Node 20 cannot import .wasm as an ES module, so instantiate it by hand.
  const wasmPath = join(
    dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
    'schema_engine_bg.wasm',
  );
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), {
    './schema_engine_bg.js': bg,
  });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  ready = true;
}

export function layout(provider) {
  if (provider === 'sqlite') {
    return { schema: join(root, 'prisma', 'schema.prisma'), migrations: join(root, 'prisma', 'migrations') };
  }
  if (provider === 'postgresql') {
    return {
      schema: join(root, 'prisma', 'pg', 'schema.prisma'),
      migrations: join(root, 'prisma', 'pg', 'migrations'),
    };
  }
  throw new Error(`unknown provider ${provider}`);
}

// The engine sends whole migration scripts through executeRaw; better-sqlite3 prepares
// one statement at a time, so multi-statement SQL falls back to executeScript.
function scriptTolerant(adapter) {
  const run = (fn) => async (query) => {
    try {
      return await fn(query);
    } catch (error) {
      if (!String(error?.message ?? error).includes('more than one statement')) throw error;
      await adapter.executeScript(query.sql);
      return fn === adapter.queryRaw.bind(adapter) ? { columnNames: [], columnTypes: [], rows: [] } : 0;
    }
  };
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'executeRaw') return run(target.executeRaw.bind(target));
      if (key === 'queryRaw') return run(target.queryRaw.bind(target));
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function adapterFactory(provider, shadowUrl) {
  if (provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    const factory = new PrismaBetterSqlite3({ url: ':memory:' });
    return {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => scriptTolerant(await factory.connect()),
      connectToShadowDb: async () => scriptTolerant(await factory.connectToShadowDb()),
    };
  }
  const { PrismaPg } = await import('@prisma/adapter-pg');
  if (!shadowUrl) throw new Error('PostgreSQL needs a throwaway database URL to diff against');
  return new PrismaPg({ connectionString: shadowUrl });
}

function migrationList(dir) {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: readFileSync(join(dir, 'migration_lock.toml'), 'utf8'),
    },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: readFileSync(join(dir, name, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

/**
 * Diff from `from` ('empty' or 'migrations') to the Prisma schema. Returns {exitCode, sql}:
 * exitCode 0 and an empty migration when they agree, 2 and the missing SQL when they drift.
 * For PostgreSQL, `shadowUrl` names a throwaway database the engine may reset.
 * `paths` ({schema, migrations}) defaults to the project's own files.
 */
export async function diffToSchema(provider, from, shadowUrl, paths = layout(provider)) {
  loadWasm();
  const driverAdapterUtils = await import('@prisma/driver-adapter-utils');
  const schema = { path: paths.schema, content: readFileSync(paths.schema, 'utf8') };
  const factory = driverAdapterUtils.bindMigrationAwareSqlAdapterFactory(
    await adapterFactory(provider, shadowUrl),
  );
  const logs = [];
  const engine = await bg.SchemaEngine.new(
    { datamodels: [[schema.path, schema.content]] },
    (l) => logs.push(l),
    factory,
  );
  try {
    const result = await engine.diff({
      from: from === 'empty' ? { tag: 'empty' } : { tag: 'migrations', ...migrationList(paths.migrations) },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return { exitCode: result.exitCode, sql: result.stdout ?? '' };
  } catch (error) {
    throw new Error(`schema engine failed: ${error?.message ?? error}\n${logs.join('\n')}`);
  } finally {
    engine.free();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, provider = 'sqlite'] = process.argv.slice(2);
  if (command !== 'diff' && command !== 'create') {
    console.error('usage: node scripts/schema-engine.mjs diff|create sqlite|postgresql');
    process.exit(64);
  }
  const shadow = process.env.SHADOW_DATABASE_URL;
  const { exitCode, sql } = await diffToSchema(
    provider,
    command === 'create' ? 'empty' : 'migrations',
    shadow,
  );
  process.stdout.write(sql.endsWith('\n') ? sql : `${sql}\n`);
  process.exit(command === 'diff' ? exitCode : 0);
}
