import { defineConfig } from 'prisma/config';

// PostgreSQL twin of prisma.config.ts; prisma/pg/schema.prisma is derived from prisma/schema.prisma.
export default defineConfig({
  schema: 'prisma/pg/schema.prisma',
  migrations: { path: 'prisma/pg/migrations' },
  datasource: {
    url: process.env.DATABASE_URL?.startsWith('postgres')
      ? process.env.DATABASE_URL
      : 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
