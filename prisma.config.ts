import { defineConfig } from 'prisma/config';

// Only `prisma generate` is run here (scripts/prisma-generate.mjs); migrations are applied by src/db/migrate.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL?.startsWith('file:') ? process.env.DATABASE_URL : 'file:./data/app.db',
  },
});
