// The whole flow on one machine: the portal emulator and our app, each on a loopback port,
// talking real HTTP to each other; the app on a fresh database of the suite's provider.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { buildTestApp, type LogCapture } from './app.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { freePort } from './net.js';

export interface Stack {
  emulator: EmulatorHandle;
  app: FastifyInstance;
  appUrl: string;
  testDb: TestDatabase;
  logs: LogCapture;
  config: Config;
  close(): Promise<void>;
}

export async function startStack(
  options: { emulator?: EmulatorOptions; env?: Record<string, string>; testDb?: TestDatabase } = {},
): Promise<Stack> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const emulator = await startEmulator({ appUrl, ...options.emulator });
  const testDb = options.testDb ?? (await createTestDatabase());
  const credentials = emulator.apps[0]!;
  const { app, logs, config } = await buildTestApp(
    testDb,
    {
      PUBLIC_URL: appUrl,
      B24_OAUTH_URL: emulator.oauthUrl,
      B24_CLIENT_ID: credentials.clientId,
      B24_CLIENT_SECRET: credentials.clientSecret,
      B24_ALLOW_HTTP: 'true',
      ...options.env,
    },
    { now: () => emulator.clock.now() },
  );
  await app.listen({ host: '127.0.0.1', port });
  return {
    emulator,
    app,
    appUrl,
    testDb,
    logs,
    config,
    async close() {
      await app.close();
      await emulator.close();
      if (!options.testDb) await testDb.close();
    },
  };
}
