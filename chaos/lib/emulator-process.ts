// Child process entry: the emulated portals and OAuth server on their own event loop, so a
// harness busy counting answers never delays the portals the app under test talks to. Answers
// the calls of protocol.ts over IPC (bench/lib/ipc.ts); exits when the harness disconnects (or dies).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator } from 'bitrix24-emulator';
import { ipcOptions, serveIpc } from '../../bench/lib/ipc.js';
import type { Calls, EmulatorProcessOptions, FormPost, Ready } from './protocol.js';

const options = ipcOptions<EmulatorProcessOptions>();
const emulator = await startEmulator({
  portals: options.memberIds.map((memberId) => ({ memberId, appsInstalled: false })),
  limits: options.limits,
  accessTokenTtl: options.accessTokenTtl,
  sharedPortalHandler: true,
});

// The admin's browser: the portal renders the install form into the iframe and the browser
// posts it. Posting it to this sink instead gives the harness the exact form to post (and to
// post again, as a reload does) to an app that may be dead at that moment.
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('captured'));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const formOf = (payload: { action: string; body: [string, string][] }): FormPost => {
  const url = new URL(payload.action);
  return { path: `${url.pathname}${url.search}`, body: new URLSearchParams(payload.body).toString() };
};

const app = emulator.apps[0]!;
serveIpc<Ready, Calls>(
  {
    installForm: async (memberId) => {
      const answer = await emulator.installApp(memberId, { appUrl: sinkUrl });
      return formOf(answer.payload);
    },
    finishInstall: (memberIds) => {
      for (const m of memberIds) emulator.finishInstall(m);
    },
    expireTokens: (memberIds) => {
      for (const m of memberIds) emulator.expireTokens(m);
    },
    upstream: () => {
      const stats = emulator.stats.snapshot();
      let rest = 0;
      for (const p of Object.values(stats.portals)) rest += p.restRequests;
      return stats.oauth.requests + rest;
    },
    oauth: () => {
      const { requests, refreshRequests, refreshFailures } = emulator.stats.snapshot().oauth;
      return { requests, refreshRequests, refreshFailures };
    },
    openPlacement: async (memberId, placement, userId) => {
      const answer = await emulator.openPlacement(memberId, { placement, ...(userId && { userId }) });
      return { status: answer.status, body: answer.body.slice(0, 4000), form: formOf(answer.payload) };
    },
  },
  {
    oauthUrl: emulator.oauthUrl,
    app: { clientId: app.clientId, clientSecret: app.clientSecret },
    portals: options.memberIds.map((m) => {
      const p = emulator.portal(m);
      return { memberId: m, domain: p.domain, adminUserId: p.adminUserId };
    }),
  },
  async () => {
    sink.close();
    await emulator.close();
  },
);
