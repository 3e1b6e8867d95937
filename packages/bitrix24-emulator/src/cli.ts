/**
 * Starts the local Bitrix24 emulator:
 *   npm run emulator -- --port 4000 --app http://127.0.0.1:3000 [--client-id ... --client-secret ...]
 * Portals listen on the following ports (4001, 4002, ...) unless --portal-port says otherwise.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_APP, DEMO_MEMBER_ID, startEmulator } from './index.js';
import type { PortalSeed } from './seed.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    host: { type: 'string', default: '127.0.0.1' },
    app: { type: 'string' },
    'client-id': { type: 'string', default: DEFAULT_APP.clientId },
    'client-secret': { type: 'string', default: DEFAULT_APP.clientSecret },
    'app-sid': { type: 'string' },
    scope: { type: 'string', default: 'landing,placement,user_brief' },
    portals: { type: 'string', default: '1' },
    'portal-port': { type: 'string' },
    'install-finished': { type: 'boolean', default: false },
    'latency-ms': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(
    'Usage: npm run emulator -- [--port 4000] [--app http://127.0.0.1:3000] [--client-id ID] [--client-secret S]\n' +
      '       [--app-sid SID] [--scope landing,placement,user_brief] [--portals 1] [--portal-port 4001] [--install-finished]\n' +
      '       [--latency-ms 0]   (added to every REST and OAuth answer, as a real portal is 50-300 ms away)',
  );
  process.exit(0);
}

const port = Number(values.port);
const latencyMs = Number(values['latency-ms']);
if (!Number.isInteger(latencyMs) || latencyMs < 0) {
  console.error('--latency-ms must be a whole number of milliseconds (0 or more)');
  process.exit(64);
}
const count = Math.max(1, Number(values.portals) || 1);
const firstPortalPort = values['portal-port'] ? Number(values['portal-port']) : port === 0 ? 0 : port + 1;
const portals: PortalSeed[] = Array.from({ length: count }, (_, i) => ({
  memberId: i === 0 ? DEMO_MEMBER_ID : undefined,
  title: count === 1 ? 'Demo portal' : `Demo portal ${i + 1}`,
  port: firstPortalPort === 0 ? 0 : firstPortalPort + i,
  installFinished: values['install-finished'],
}));

const emulator = await startEmulator({
  host: values.host,
  port,
  appUrl: values.app,
  latencyMs,
  portals,
  apps: [
    {
      clientId: values['client-id'],
      clientSecret: values['client-secret'],
      appSid: values['app-sid'],
      scope: values.scope,
    },
  ],
});

const lines = [
  'Bitrix24 emulator running',
  `  OAuth server:    ${emulator.oauthUrl}  (token endpoint ${emulator.oauthTokenUrl})`,
  `  client_id:       ${values['client-id']}`,
  `  client_secret:   ${values['client-secret']}`,
  `  app URL:         ${values.app ?? '(none: pass --app to enable "Install app")'}`,
  `  latency:         ${latencyMs} ms added to every REST and OAuth answer`,
];
for (const p of emulator.portals) {
  lines.push(
    `  portal ${p.memberId}`,
    `    DOMAIN ${p.domain}  editor ${p.editorUrl}  REST ${p.clientEndpoint}`,
    `    users: ${p.userIds.join(', ')} (admin: ${p.adminUserId})`,
  );
}
console.log(lines.join('\n'));

const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
