// Generates the Prisma clients (SQLite and PostgreSQL) without network access.
// The Prisma CLI insists on a schema-engine binary even for `generate`, which never uses it;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any executable stops it from trying to download one.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaBin = join(root, 'node_modules', '.bin', 'prisma');
if (!existsSync(prismaBin)) {
  // `npm ci --omit=dev` in the Docker runtime stage: the client was generated in the build stage.
  console.log('prisma CLI not installed; skipping client generation');
  process.exit(0);
}
let engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
if (!engine || !existsSync(engine)) {
  engine = join(root, 'node_modules', '.cache', 'no-schema-engine');
  mkdirSync(dirname(engine), { recursive: true });
  writeFileSync(engine, '#!/bin/sh\necho "schema engine unavailable offline" >&2\nexit 1\n');
  chmodSync(engine, 0o755);
}
// PostgreSQL uses the same models: derive its schema rather than keep a second copy by hand.
const source = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8');
const pgSchema = source
  .replace('provider = "sqlite"', 'provider = "postgresql"')
  .replace('output   = "../src/generated/prisma"', 'output   = "../../src/generated/prisma-pg"');
if (pgSchema === source || !pgSchema.includes('prisma-pg'))
  throw new Error('could not derive prisma/pg/schema.prisma');
mkdirSync(join(root, 'prisma', 'pg'), { recursive: true });
writeFileSync(
  join(root, 'prisma', 'pg', 'schema.prisma'),
  `// GENERATED from prisma/schema.prisma by scripts/prisma-generate.mjs. Do not edit.\n${pgSchema}`,
);

for (const config of ['prisma.config.ts', 'prisma.pg.config.ts']) {
  execFileSync(prismaBin, ['generate', '--config', config], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}
