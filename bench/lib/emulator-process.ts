// Child process entry: runs the emulator on its own event loop (and, on 2 cores, its own
// core), so the clients measured in the parent do not compete with it for CPU. Started by
// emulator-remote.ts; answers the calls in emulator-protocol.ts over IPC (ipc.ts) and shuts
// down when the parent disconnects (or dies).
import { startEmulator } from 'bitrix24-emulator';
import type { EmulatorCalls, EmulatorProcessOptions, EmulatorReady } from './emulator-protocol.js';
import { ipcOptions, serveIpc } from './ipc.js';

const options = ipcOptions<EmulatorProcessOptions>();
const emulator = await startEmulator({ limits: options.limits });
await warmUp();

serveIpc<EmulatorReady, EmulatorCalls>(
  {
    issueTokens: () => emulator.issueTokens(),
    expireTokens: () => {
      emulator.expireTokens();
    },
    portalStats: () => emulator.stats.portal(),
    oauthStats: () => emulator.stats.snapshot().oauth,
    cpuSeconds: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
  },
  { oauthUrl: emulator.oauthUrl, portal: emulator.portal(), apps: emulator.apps },
  () => emulator.close(),
);

/**
 * The first requests to a fresh process run cold code and take tens of milliseconds each; a
 * benchmark of the clients should not measure that. Serve a few of each kind (REST, batch,
 * refresh), then forget them: empty bucket, no operating time, zeroed stats.
 */
async function warmUp(): Promise<void> {
  const grant = emulator.issueTokens();
  const app = emulator.apps[0]!;
  const post = (url: string, body: Record<string, unknown>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.text());
  const cmd = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 'user.current']));
  for (let i = 0; i < 10; i++) {
    await post(`${grant.client_endpoint}app.info.json`, { auth: grant.access_token });
    await post(`${grant.client_endpoint}batch.json`, { halt: 0, cmd, auth: grant.access_token });
  }
  const refresh = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: app.clientId,
    client_secret: app.clientSecret,
    refresh_token: grant.refresh_token,
  });
  await fetch(`${emulator.oauthUrl}/oauth/token/?${refresh}`).then((r) => r.text());
  emulator.resetLimits();
  emulator.stats.reset();
}
