// The whole flow on one machine: the portal emulator and our app, each on a loopback port,
// talking real HTTP to each other; the app on a fresh database of the suite's provider.

import { type EmulatorHandle, type EmulatorOptions, startEmulator } from 'bitrix24-emulator';
import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../../src/app.js';
import type { Config } from '../../src/config.js';
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
  options: {
    emulator?: EmulatorOptions;
    env?: Record<string, string>;
    testDb?: TestDatabase;
    /** Hooks or routes a suite adds to the app before it listens. */
    configure?: (app: FastifyInstance) => void;
    /** Extra widgets and their templates (buildApp's placements and viewsRoot). */
    app?: Pick<AppDependencies, 'placements' | 'viewsRoot'>;
  } = {},
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
    { now: () => emulator.clock.now(), ...options.app },
  );
  options.configure?.(app);
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

/** A stack with one portal on which the administrator installed the app and installFinish() ran. */
export async function startInstalledStack(memberId: string): Promise<Stack> {
  const stack = await startStack({ emulator: { portals: [{ memberId }] } });
  const installed = await stack.emulator.installApp(memberId);
  if (installed.status !== 200) throw new Error(`install on ${memberId} answered ${installed.status}`);
  stack.emulator.finishInstall(memberId);
  return stack;
}

/** Posts a form again, as a browser reload of that page does. */
export async function resubmit(payload: { action: string; body: [string, string][] }) {
  const res = await fetch(payload.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(payload.body).toString(),
  });
  return { status: res.status, body: await res.text() };
}
