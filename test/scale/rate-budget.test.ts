// One rate budget per portal across processes: three app processes on one PostgreSQL database
// call one portal at once, and together they never overfill its bucket (no 503
// QUERY_LIMIT_EXCEEDED). With a bucket per process each would send at the full rate Y, three
// times what the portal drains.
import { randomBytes } from 'node:crypto';
import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { freePort } from '../helpers/net.js';
import { createTempPgDatabase } from '../helpers/postgres.js';
import { type Replica, replicaEnv, startReplicas, stopReplicas } from '../helpers/replicas.js';

const PORTAL = 'b0d9e7001';
const REPLICAS = 3;
const CALLS_PER_REPLICA = 30;
// The portal's bucket, small and quick so the test takes seconds: the app's model keeps
// X - 8 - 1 = 11 requests of room, so three per-process buckets send 33 at once and then 3 × Y/s.
const X = 20;
const Y = 10;
const ADMIN_TOKEN = 'rate-budget-admin-token-0123456789';

let emulator: EmulatorHandle;
let database: { url: string; drop: () => Promise<void> };
let replicas: Replica[] = [];

beforeAll(async () => {
  database = await createTempPgDatabase('ratebudget');
  await migrate(database.url);
  const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  emulator = await startEmulator({
    appUrl: publicUrl,
    portals: [{ memberId: PORTAL }],
    limits: { bucketSize: X, drainPerSecond: Y },
  });
  const key = randomBytes(32).toString('hex');
  replicas = await startReplicas(
    ports,
    replicaEnv(
      emulator,
      { publicUrl, databaseUrl: database.url, tokenKey: key, adminToken: ADMIN_TOKEN },
      { burst: X, perSecond: Y },
    ),
  );
  expect((await emulator.installApp(PORTAL)).status).toBe(200);
  emulator.finishInstall(PORTAL);
}, 120_000);

afterAll(async () => {
  await stopReplicas(replicas);
  await emulator?.close();
  await database?.drop();
}, 60_000);

/** One portal call through a replica: /admin/check asks the portal app.info with the stored tokens. */
async function check(url: string): Promise<string> {
  const res = await fetch(`${url}/admin/check`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${ADMIN_TOKEN}`,
    },
    body: `portal=${PORTAL}`,
  });
  return `${res.status} ${await res.text()}`;
}

describe('three app processes on one PostgreSQL, one portal', () => {
  it(`${REPLICAS} × ${CALLS_PER_REPLICA} calls at once never overfill the portal's bucket`, async () => {
    // The install's own calls drain away first; the count starts from an empty portal bucket.
    await new Promise((r) => setTimeout(r, (X / Y) * 1000));
    emulator.resetLimits();
    emulator.stats.reset();

    const answers = await Promise.all(
      replicas.flatMap((r) => Array.from({ length: CALLS_PER_REPLICA }, () => check(r.url))),
    );

    const portal = emulator.stats.portal(PORTAL);
    expect(portal.responses503).toBe(0);
    expect(portal.rateLimited).toBe(0);
    // Every call answered, each with exactly one request to the portal (none retried).
    expect(answers.filter((a) => !a.includes('the portal accepts the stored tokens'))).toEqual([]);
    expect(portal.restByMethod['app.info']).toBe(REPLICAS * CALLS_PER_REPLICA);
    // The budget the processes shared is the database's row for this portal.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rows = await client.query('SELECT "memberId" FROM "PortalRateBudget"');
    await client.end();
    expect(rows.rows).toEqual([{ memberId: PORTAL }]);
    for (const r of replicas) expect(r.output.join('')).not.toMatch(/"level":50/);
  }, 120_000);
});
