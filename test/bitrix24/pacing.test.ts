// Leaky bucket, retries, batch and paged lists against the emulator (X = 50, Y = 50/s so a
// burst of hundreds drains in seconds).

import type { UserSeed } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchCommands } from '../../src/bitrix24/batch-plan.js';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import { RateLimitError, TransientError } from '../../src/bitrix24/errors.js';
import { appProcess, createTestEnv, type TestEnv } from './setup.js';

let env: TestEnv;
let client: Bitrix24Client;

// 128 users: user.get (a paged list method) has 3 pages.
const USERS: UserSeed[] = Array.from({ length: 128 }, (_, i) => ({ id: i + 1, admin: i === 0 }));

beforeAll(async () => {
  env = await createTestEnv({ emulator: { portals: [{ users: USERS }] } });
  client = env.factory.forInstallation(env.installation);
});
afterAll(() => env?.close());

const stats = () => env.emulator.stats.portal();

/** Waits until the emulator's bucket is empty, so each test starts from the same state. */
async function drained() {
  while (env.emulator.bucketLevel() > 0.5) await new Promise((r) => setTimeout(r, 50));
  env.emulator.stats.reset();
}

describe('leaky bucket', () => {
  it('sends a burst of 300 calls without a single 503', async () => {
    await drained();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 300 }, () => client.app.info()));
    // Every call answered with the app's own record (Promise.all's length could not fail).
    expect(new Set(results.map((r) => r.CODE))).toEqual(new Set([env.emulator.apps[0]!.clientId]));
    expect(stats().restRequests).toBe(300);
    expect(stats().responses503).toBe(0);
    expect(stats().rateLimited).toBe(0);
    expect(client.rest.stats.rateLimited).toBe(0);
    // The bucket, not the client, sets the pace: ~ (300 − burst) / 50 s.
    expect(Date.now() - started).toBeGreaterThan(4000);
  });

  it('shares one bucket between installation and widget-user clients of the same portal', async () => {
    await drained();
    const user = env.emulator.issueTokens(undefined, 2);
    const asUser = env.factory.forUser(env.installation, user.access_token);
    const calls = Array.from({ length: 150 }, (_, i) => (i % 2 ? client.app.info() : asUser.user.current()));
    await Promise.all(calls);
    expect(stats().restRequests).toBe(150);
    expect(stats().responses503).toBe(0);
  });
});

describe('retries', () => {
  it('retries an injected 503 and succeeds', async () => {
    await drained();
    env.emulator.faults.failNext(1, { status: 503, target: 'user.current' });
    await expect(client.user.current()).resolves.toMatchObject({ ID: 1 });
    expect(stats().injectedErrors).toBe(1);
    expect(stats().restByMethod['user.current']).toBe(2);
  });

  it('gives up on QUERY_LIMIT_EXCEEDED after its bounded retries', async () => {
    await drained();
    const strict = env.factory.forInstallation(env.installation);
    env.emulator.faults.failNext(50, { status: 503, target: 'app.info' });
    const started = Date.now();
    await expect(strict.app.info()).rejects.toBeInstanceOf(RateLimitError);
    expect(stats().restByMethod['app.info']).toBe(7); // 1 + 6 retries
    // Real time: the backoff sleeps are the REST client's own timers against a live emulator; the
    // attempt count above is the assertion, 20 s only catches an unbounded wait (~4× the backoff sum).
    expect(Date.now() - started).toBeLessThan(20_000);
    env.emulator.faults.reset();
  });

  it('retries 500s and dropped connections for reads', async () => {
    await drained();
    env.emulator.faults.failNext(2, { status: 500, target: 'landing.site.getList' });
    await expect(client.landing.site.getList({})).resolves.toHaveLength(2);
    expect(stats().restByMethod['landing.site.getList']).toBe(3);

    env.emulator.faults.dropNext(1, { target: 'app.info' });
    await expect(client.app.info()).resolves.toMatchObject({ ID: 1 });
    expect(stats().droppedConnections).toBe(1);
  });

  it('retries a write at most once', async () => {
    await drained();
    env.emulator.faults.failNext(5, { status: 500, target: 'app.option.set' });
    const write = client.app.option.set({ options: { a: '1' } });
    await expect(write).rejects.toBeInstanceOf(TransientError);
    await expect(write).rejects.toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      status: 500,
      method: 'app.option.set',
    });
    expect(stats().restByMethod['app.option.set']).toBe(2);
    env.emulator.faults.reset();
  });

  it('times out a request that gets no answer', async () => {
    await drained();
    const impatient = appProcess(env, env.testDb.db, { owner: 'impatient', timeoutMs: 200 });
    env.emulator.faults.update({ methods: { 'app.info': { latencyMs: 1000 } } });
    const call = impatient.factory.forInstallation(env.installation).app.info();
    await expect(call).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT', kind: 'transient', status: 0 });
    env.emulator.faults.reset();
  });
});

describe('batch', () => {
  it('sends 120 commands as 3 requests with results keyed by name and $result references', async () => {
    await drained();
    const commands: BatchCommands = {};
    for (let i = 0; i < 117; i++)
      commands[`user${i}`] = { method: 'user.get', params: { ID: (i % 128) + 1 } };
    commands.site = { method: 'landing.site.getList', params: { params: { order: { ID: 'DESC' } } } };
    commands.pages = {
      method: 'landing.landing.getList',
      params: { params: { filter: { SITE_ID: '$result[site][0][ID]' } } },
    };
    commands.blocks = { method: 'landing.block.getList', params: { lid: '$result[pages][0][ID]' } };

    const out = await client.batch(commands);
    expect(stats().restByMethod.batch).toBe(3);
    expect(stats().restRequests).toBe(3);
    expect(Object.keys(out.result)).toHaveLength(120);
    expect(out.errors).toEqual({});
    expect(out.result.user41).toMatchObject([{ ID: '42' }]);
    expect(out.total.user41).toBe(1);
    expect(out.result.pages).toMatchObject([{ ID: '33', SITE_ID: '31' }]);
    expect(out.result.blocks).toMatchObject([
      { id: 1000, lid: 33 },
      { id: 1001, lid: 33 },
    ]);
  });

  it('reports failed commands as typed errors and halts on request', async () => {
    await drained();
    const out = await client.batch(
      {
        ok: { method: 'app.info' },
        bad: {
          method: 'landing.repo.bind',
          params: { fields: { PLACEMENT: 'CRM_LEAD', PLACEMENT_HANDLER: 'https://x.test/' } },
        },
        later: { method: 'user.current' },
      },
      { halt: true },
    );
    expect(out.result.ok).toMatchObject({ CODE: 'local.emulator-app' });
    expect(out.errors.bad).toMatchObject({
      code: 'PLACEMENT_UNKNOWN',
      kind: 'parameter',
      method: 'landing.repo.bind',
    });
    expect(out.skipped).toEqual(['later']);
  });
});

describe('list', () => {
  it('yields every item: first page, then the rest through one batch', async () => {
    await drained();
    const ids: number[] = [];
    for await (const user of client.list<{ ID: string }>('user.get', { FILTER: {} }))
      ids.push(Number(user.ID));
    expect(ids).toEqual(USERS.map((u) => u.id));
    expect(stats().restByMethod['user.get']).toBe(1);
    expect(stats().restByMethod.batch).toBe(1);
  });

  it('stops early without fetching more when the caller breaks', async () => {
    await drained();
    for await (const _ of client.list('user.get')) break;
    await new Promise((r) => setTimeout(r, 100));
    expect(stats().restRequests).toBe(1);
  });
});
