import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type AppDependencies, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { TestDatabase } from './db.js';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: 'http://127.0.0.1:3000',
    B24_CLIENT_ID: 'local.test-app',
    B24_CLIENT_SECRET: 'test-secret',
    B24_ALLOW_HTTP: 'true',
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    ...env,
  });
}

/** Every log line the app wrote, as raw JSON text (what would reach a log file). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk, _encoding, done) => {
      this.lines.push(chunk.toString());
      done();
    },
  });
  get text(): string {
    return this.lines.join('');
  }
}

export async function buildTestApp(
  testDb: TestDatabase,
  env: Record<string, string> = {},
  deps: Pick<AppDependencies, 'now' | 'db' | 'placements' | 'viewsRoot'> = {},
): Promise<{ app: FastifyInstance; logs: LogCapture; config: Config }> {
  const config = testConfig({ DATABASE_URL: testDb.url, ...env });
  const logs = new LogCapture();
  const logger = createLogger('debug', logs.stream);
  const app = await buildApp(config, { db: { db: testDb.db, provider: testDb.provider }, logger, ...deps });
  return { app, logs, config };
}
