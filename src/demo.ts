// `npm run demo`: the whole product on one machine. The app on its embedded default (SQLite),
// the Bitrix24 portal emulator beside it, the app installed into the demo portal; prints the
// editor URL to open in a browser. Secrets are generated once and kept in .demo/.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_APP, DEMO_MEMBER_ID, startEmulator } from 'bitrix24-emulator';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { migrate } from './db/migrate.js';

const DEMO_DIR = '.demo';
const host = '127.0.0.1';
const appPort = Number(process.env.PORT ?? 3000);
const oauthPort = Number(process.env.EMULATOR_PORT ?? 4000);
const appUrl = `http://${host}:${appPort}`;

function demoSecrets(): { tokenEncryptionKey: string } {
  const file = join(DEMO_DIR, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(DEMO_DIR, { recursive: true });
  const secrets = { tokenEncryptionKey: randomBytes(32).toString('hex') };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

const emulator = await startEmulator({
  host,
  port: oauthPort,
  appUrl,
  portals: [{ memberId: DEMO_MEMBER_ID, title: 'Demo portal', port: oauthPort + 1 }],
  apps: [DEFAULT_APP],
});

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'development',
  HOST: host,
  PORT: String(appPort),
  DATABASE_URL: process.env.DATABASE_URL ?? 'file:./data/demo.db',
  PUBLIC_URL: appUrl,
  B24_CLIENT_ID: DEFAULT_APP.clientId,
  B24_CLIENT_SECRET: DEFAULT_APP.clientSecret,
  B24_OAUTH_URL: emulator.oauthUrl,
  B24_ALLOW_HTTP: 'true',
  TOKEN_ENCRYPTION_KEY: demoSecrets().tokenEncryptionKey,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
});
await migrate(config.databaseUrl);
const app = await buildApp(config);
await app.listen({ host, port: appPort });

const portal = emulator.portal(DEMO_MEMBER_ID);
const installed = await emulator.installApp(DEMO_MEMBER_ID, { lang: 'en' });
if (installed.status !== 200) {
  console.error(`Installing the app into the demo portal failed (HTTP ${installed.status}).`);
  await Promise.all([app.close(), emulator.close()]);
  process.exit(1);
}
// The browser would call installFinish() from the install page; there is no browser here yet.
emulator.finishInstall(DEMO_MEMBER_ID);

console.log(`
Bitrix24 Sites app demo is running.

  Open the Sites editor:  ${portal.editorUrl}
    (choose a page, then a block's "More" menu or the site settings menu to open the app's widgets)

  App:            ${appUrl}   (health: ${appUrl}/healthz, database ${config.databaseUrl})
  OAuth server:   ${emulator.oauthUrl}
  Portal REST:    ${portal.clientEndpoint}   member_id ${portal.memberId}

Press Ctrl+C to stop.`);

const stop = async () => {
  await app.close();
  await emulator.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
