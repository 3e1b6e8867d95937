// Scale-out: three app processes behind one address share one PostgreSQL database. Widget
// opens and forced token expiries are spread across them; each expiry costs exactly one
// refresh, no request fails, and every installation's tokens work at the end.
import { randomBytes } from 'node:crypto';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createCipher, parseKey } from '../../src/installations/cipher.js';
import { PrismaInstallationStore } from '../../src/installations/prisma-store.js';
import { freePort } from '../helpers/net.js';
import { createTempPgDatabase } from '../helpers/postgres.js';
import { type Replica, replicaEnv, startReplicas, stopReplicas } from '../helpers/replicas.js';

const PORTALS = Array.from({ length: 20 }, (_, i) => `5ca1e${String(i).padStart(3, '0')}`);
const REPLICAS = 3;
const ADMIN_TOKEN = 'replicas-admin-token-0123456789';

let emulator: EmulatorHandle;
let database: { url: string; drop: () => Promise<void> };
let replicas: Replica[] = [];
let key: string;

beforeAll(async () => {
  database = await createTempPgDatabase('replicas');
  await migrate(database.url);
  const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  // One public address (the first replica stands for the load balancer) bound on the portals.
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  emulator = await startEmulator({
    appUrl: publicUrl,
    portals: PORTALS.map((memberId) => ({ memberId })),
    limits: { bucketSize: 1000, drainPerSecond: 500 },
  });
  key = randomBytes(32).toString('hex');
  replicas = await startReplicas(
    ports,
    replicaEnv(
      emulator,
      { publicUrl, databaseUrl: database.url, tokenKey: key, adminToken: ADMIN_TOKEN },
      { burst: 1000, perSecond: 500 },
    ),
  );
  for (const m of PORTALS) {
    expect((await emulator.installApp(m)).status).toBe(200);
    emulator.finishInstall(m);
  }
}, 120_000);

afterAll(async () => {
  await stopReplicas(replicas);
  await emulator?.close();
  await database?.drop();
}, 60_000);

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

/** Runs `tasks` with at most `limit` at once. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

describe('three replicas on one PostgreSQL', () => {
  it('1,000 widget opens and 100 token expiries: one refresh per expiry, no failed request', async () => {
    // A widget payload per portal, re-posted to every replica in turn.
    const payloads: { path: string; body: string }[] = [];
    for (const m of PORTALS) {
      const open = await emulator.openPlacement(m, {
        placement: PORTALS.indexOf(m) % 2 ? 'LANDING_BLOCK_*' : 'LANDING_SETTINGS',
      });
      expect(open.status).toBe(200);
      const url = new URL(open.payload.action);
      payloads.push({
        path: `${url.pathname}${url.search}`,
        body: new URLSearchParams(open.payload.body).toString(),
      });
    }
    const opens = Array.from({ length: 1000 }, (_, i) => async () => {
      const payload = payloads[i % payloads.length]!;
      const res = await post(`${replicas[i % REPLICAS]!.url}${payload.path}`, payload.body);
      await res.text();
      return res.status;
    });

    const { db } = createDb(database.url);
    const store = new PrismaInstallationStore(db, createCipher(parseKey(key)));
    const refreshesBefore = new Map(PORTALS.map((m) => [m, emulator.stats.portal(m).refreshRequests]));
    // 100 expiries: 5 rounds over 20 portals; in each, all three replicas use the expired token at once.
    const expiries = async () => {
      const statuses: number[] = [];
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          PORTALS.map(async (m) => {
            const installation = (await store.find(m))!;
            emulator.expireAccessToken((await store.getTokens(installation.id))!.accessToken);
            const answers = await Promise.all(
              replicas.map((r) =>
                post(`${r.url}/admin/check`, `portal=${m}`, { authorization: `Bearer ${ADMIN_TOKEN}` }),
              ),
            );
            for (const answer of answers) {
              statuses.push(answer.status);
              expect(await answer.text()).toContain('the portal accepts the stored tokens');
            }
          }),
        );
      }
      return statuses;
    };
    const [openStatuses, checkStatuses] = await Promise.all([pool(opens, 20), expiries()]);

    expect(openStatuses.filter((s) => s !== 200)).toEqual([]);
    expect(checkStatuses.filter((s) => s !== 200)).toEqual([]);
    for (const m of PORTALS) {
      expect(emulator.stats.portal(m).refreshRequests - refreshesBefore.get(m)!, m).toBe(5);
      expect(emulator.stats.portal(m).refreshFailures, m).toBe(0);
    }
    // Every installation's stored tokens work, straight against the portal.
    for (const m of PORTALS) {
      const installation = (await store.find(m))!;
      expect(installation.status).toBe('active');
      const tokens = (await store.getTokens(installation.id))!;
      const info = await fetch(`${installation.clientEndpoint}app.info.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: tokens.accessToken }),
      });
      expect(info.status, m).toBe(200);
    }
    for (const r of replicas) expect(r.output.join('')).not.toMatch(/"level":50/);
    await db.$disconnect();
  }, 120_000);
});
