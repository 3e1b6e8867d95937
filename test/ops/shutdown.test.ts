// Graceful shutdown: a token refresh in flight when the app is told to stop completes and is
// stored before the database closes, so the single-use refresh token is never lost. Once in
// process (app.close(), the app owning its database client), once as the server process
// receiving SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { refreshAt } from 'bitrix24-emulator/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCipher, parseKey } from '../../src/installations/cipher.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import type { StoredTokens } from '../../src/installations/types.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture, testConfig } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';

const MEMBER_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const ADMIN_TOKEN = 'shutdown-admin-token-0123';
const OAUTH_LATENCY_MS = 1500;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Setup {
  port: number;
  appUrl: string;
  emulator: EmulatorHandle;
  testDb: TestDatabase;
  key: string;
  env: Record<string, string>;
  store: PrismaInstallationStore;
}

async function setup(): Promise<Setup> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const emulator = await startEmulator({ appUrl, portals: [{ memberId: MEMBER_ID }] });
  cleanups.push(() => emulator.close());
  const testDb = await createTestDatabase();
  cleanups.push(() => testDb.close());
  const key = randomBytes(32).toString('hex');
  const env = {
    PUBLIC_URL: appUrl,
    DATABASE_URL: testDb.url,
    B24_OAUTH_URL: emulator.oauthUrl,
    B24_CLIENT_ID: emulator.apps[0]!.clientId,
    B24_CLIENT_SECRET: emulator.apps[0]!.clientSecret,
    B24_ALLOW_HTTP: 'true',
    TOKEN_ENCRYPTION_KEY: key,
    ADMIN_TOKEN,
  };
  const store = new PrismaInstallationStore(testDb.db, createCipher(parseKey(key)));
  return { port, appUrl, emulator, testDb, key, env, store };
}

/** Makes the next REST call refresh slowly, starts one (an admin check), and waits until the refresh is in flight. */
async function startSlowRefresh(s: Setup): Promise<{ response: Promise<Response> }> {
  s.emulator.expireTokens(MEMBER_ID);
  s.emulator.faults.update({ oauth: { latencyMs: OAUTH_LATENCY_MS } });
  const oauthBefore = s.emulator.stats.snapshot().oauth.requests;
  const pending = fetch(`${s.appUrl}/admin/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: `portal=${MEMBER_ID}`,
  });
  await until(() => s.emulator.stats.snapshot().oauth.requests > oauthBefore, 'the refresh to reach OAuth');
  // Wrapped: an async function returning the promise itself would wait for the response.
  return { response: pending };
}

/** The stored pair is the refreshed one, and the portal and the OAuth server both accept it. */
async function expectNewWorkingPair(s: Setup, before: StoredTokens): Promise<void> {
  const installation = (await s.store.find(MEMBER_ID))!;
  const after = (await s.store.getTokens(installation.id))!;
  expect(after.version).toBe(before.version + 1);
  expect(after.accessToken).not.toBe(before.accessToken);
  expect(after.refreshToken).not.toBe(before.refreshToken);
  expect(after.refreshedAt).not.toBeNull();

  const info = await fetch(`${installation.clientEndpoint}app.info.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: after.accessToken }),
  });
  expect(info.status).toBe(200);
  s.emulator.faults.reset();
  const refresh = await refreshAt(s.emulator, after.refreshToken, s.env.B24_CLIENT_ID);
  expect(refresh.status).toBe(200);
}

describe('graceful shutdown', () => {
  it('app.close() also waits for a refresh started outside any request', async () => {
    const s = await setup();
    const app = await buildApp(testConfig(s.env), {
      logger: createLogger('silent'),
      now: () => s.emulator.clock.now(),
    });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: s.port });
    expect((await s.emulator.installApp(MEMBER_ID)).status).toBe(200);
    const installation = (await s.store.find(MEMBER_ID))!;
    const before = (await s.store.getTokens(installation.id))!;
    s.emulator.expireTokens(MEMBER_ID);
    s.emulator.faults.update({ oauth: { latencyMs: OAUTH_LATENCY_MS } });
    const oauthBefore = s.emulator.stats.snapshot().oauth.requests;
    const call = app.clients.forInstallation(installation).app.info(undefined);
    await until(() => s.emulator.stats.snapshot().oauth.requests > oauthBefore, 'the refresh to reach OAuth');
    await app.close();
    // The server process exits right after close(): by then the new pair must already be stored.
    await expectNewWorkingPair(s, before);
    await call.catch(() => {});
  });

  it('app.close() waits for a refresh in flight, then closes the database', async () => {
    const s = await setup();
    const logs = new LogCapture();
    // No shared client: the app opens and, on close, disconnects its own database client.
    const app = await buildApp(testConfig(s.env), {
      logger: createLogger('info', logs.stream),
      now: () => s.emulator.clock.now(),
    });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: s.port });
    expect((await s.emulator.installApp(MEMBER_ID)).status).toBe(200);
    const before = (await s.store.getTokens((await s.store.find(MEMBER_ID))!.id))!;

    const { response: pending } = await startSlowRefresh(s);
    const closing = app.close();
    // No new requests are taken while the old one finishes.
    const late = await fetch(`${s.appUrl}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);

    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('the portal accepts the stored tokens');
    // Done once the last answer is out: its keep-alive connection does not hold the close.
    const answeredAt = Date.now();
    await closing;
    // Real time (no clock seam: Node's own server close); only an idle connection held open would take longer.
    expect(Date.now() - answeredAt).toBeLessThan(2000);
    expect(logs.text).not.toMatch(/"level":50/);
    await expectNewWorkingPair(s, before);
  });

  it('SIGTERM to the server process: the refresh in flight is stored, the process exits 0', async () => {
    const s = await setup();
    // node itself (tsx as a loader), so the signal reaches the server and not a wrapper process.
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...s.env,
        HOST: '127.0.0.1',
        PORT: String(s.port),
        LOG_LEVEL: 'info',
      },
      stdio: 'pipe',
    });
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let healthy = false;
    for (let i = 0; i < 150 && !healthy; i++) {
      healthy = await fetch(`${s.appUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy, output).toBe(true);
    expect((await s.emulator.installApp(MEMBER_ID)).status).toBe(200);
    const before = (await s.store.getTokens((await s.store.find(MEMBER_ID))!.id))!;

    const { response: pending } = await startSlowRefresh(s);
    child.kill('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await exited, output).toBe(0);
    expect(output).toContain('shutting down: finishing requests in flight');
    expect(output).toContain('"msg":"stopped"');
    await expectNewWorkingPair(s, before);
  });

  it('a request arriving while closing gets our 503 shutting_down (JSON or page) and Connection: close', async () => {
    const s = await setup();
    const logs = new LogCapture();
    const app = await buildApp(testConfig(s.env), {
      logger: createLogger('info', logs.stream),
      now: () => s.emulator.clock.now(),
    });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: s.port });

    // Connections with a request under way when close() begins (only idle ones are dropped):
    // their requests are complete only once the app is closing.
    const json = await startRequest(s.port, 'GET /healthz HTTP/1.1\r\nHost: app\r\n');
    const page = await startRequest(
      s.port,
      'POST /install?DOMAIN=portal.example.com&PROTOCOL=1&LANG=de HTTP/1.1\r\nHost: app\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n',
    );
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 100));
    const [jsonAnswer, pageAnswer] = await Promise.all([
      finishRequest(json, '\r\n'),
      finishRequest(page, '\r\nmember_id=x'),
    ]);
    await closing;

    expect(jsonAnswer.status).toBe(503);
    expect(jsonAnswer.headers.connection).toBe('close');
    expect(jsonAnswer.headers['content-type']).toContain('application/json');
    expect(JSON.parse(jsonAnswer.body)).toEqual({
      error: 'shutting_down',
      message: 'The app is restarting and takes no new requests on this connection. Try again in a moment.',
    });
    expect(pageAnswer.status).toBe(503);
    expect(pageAnswer.headers.connection).toBe('close');
    expect(pageAnswer.headers['content-type']).toContain('text/html');
    expect(pageAnswer.body).toContain('<code>shutting_down</code>');
    expect(pageAnswer.body).toContain('Die App wird neu gestartet');
    // Not Fastify's own answer, and not an error in the logs.
    expect(jsonAnswer.body).not.toContain('Service Unavailable');
    expect(logs.text).not.toMatch(/"level":50/);
  });
});

/** Opens a connection and sends the first part of a request. */
async function startRequest(port: number, head: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(head);
  return socket;
}

/** Sends the rest of the request; resolves with the answer once the server closes the connection. */
function finishRequest(
  socket: Socket,
  rest: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  let raw = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    raw += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(rest);
  return ended.then(() => {
    const [head = '', ...body] = raw.split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
    );
    return { status: Number(statusLine.split(' ')[1]), headers, body: body.join('\r\n\r\n') };
  });
}
