// /events through app.inject with the real database: uninstall checks and bad input.

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
let app: FastifyInstance;
beforeAll(async () => {
  testDb = await createTestDatabase();
  ({ app } = await buildTestApp(testDb));
});
afterAll(async () => {
  await app.close();
  await testDb.close();
});

const APP_TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

async function seedPortal(memberId: string) {
  const installation = await app.installations.save(
    {
      memberId,
      domain: 'portal.example.com',
      clientEndpoint: 'https://portal.example.com/rest/',
      applicationToken: APP_TOKEN,
      status: 'active',
    },
    {
      accessToken: 'stored-access-token',
      refreshToken: 'stored-refresh-token',
      expiresAt: new Date(Date.now() + 3600_000),
    },
  );
  await app.installations.setBindings(installation.id, [
    { kind: 'placement', code: 'LANDING_SETTINGS', handler: 'https://app/placements/settings', title: 'S' },
  ]);
  return installation;
}

function uninstallBody(memberId: string, token: string, clean: '0' | '1') {
  return new URLSearchParams({
    event: 'ONAPPUNINSTALL',
    'data[CLEAN]': clean,
    ts: '1774296164',
    'auth[domain]': 'portal.example.com',
    'auth[member_id]': memberId,
    'auth[application_token]': token,
    'auth[status]': 'L',
  }).toString();
}

const post = (payload: string) =>
  app.inject({
    method: 'POST',
    url: '/events',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload,
  });

async function snapshot() {
  const db = testDb.db;
  return {
    installations: await db.installation.findMany({ orderBy: { id: 'asc' } }),
    tokens: await db.oAuthToken.findMany({ orderBy: { installationId: 'asc' } }),
    bindings: await db.binding.findMany({ orderBy: { id: 'asc' } }),
  };
}

describe('POST /events ONAPPUNINSTALL', () => {
  beforeEach(async () => {
    await testDb.db.installation.deleteMany();
  });

  it('refuses a wrong application_token with 401 and changes nothing', async () => {
    await seedPortal('m-wrong');
    const before = await snapshot();
    const res = await post(uninstallBody('m-wrong', 'ffffffffffffffffffffffffffffffff', '1'));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_application_token' });
    expect(await snapshot()).toEqual(before);
  });

  it('CLEAN=0 marks the portal uninstalled, deletes its tokens, keeps its row', async () => {
    const installation = await seedPortal('m-keep');
    const res = await post(uninstallBody('m-keep', APP_TOKEN, '0'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: 'uninstalled' });
    const stored = await app.installations.find('m-keep');
    expect(stored).toMatchObject({ status: 'uninstalled' });
    expect(stored?.uninstalledAt).toBeInstanceOf(Date);
    expect(await app.installations.getTokens(installation.id)).toBeNull();
    expect(await app.installations.listBindings(installation.id)).toEqual([]);
    // Bitrix24 may deliver the event twice.
    expect((await post(uninstallBody('m-keep', APP_TOKEN, '0'))).json()).toEqual({
      result: 'already_uninstalled',
    });
  });

  it('CLEAN=1 deletes everything of that portal and nothing of others', async () => {
    await seedPortal('m-clean');
    await seedPortal('m-other');
    const res = await post(uninstallBody('m-clean', APP_TOKEN, '1'));
    expect(res.json()).toEqual({ result: 'cleaned' });
    expect(await app.installations.find('m-clean')).toBeNull();
    expect(await app.installations.find('m-other')).toMatchObject({ status: 'active' });
    expect(await testDb.db.oAuthToken.count()).toBe(1);
  });

  it('answers 200 for an unknown portal and stores nothing', async () => {
    const res = await post(uninstallBody('m-unknown', APP_TOKEN, '1'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: 'unknown_portal' });
    expect(await testDb.db.installation.count()).toBe(0);
  });
});

describe('POST /events bad input and other events', () => {
  it('names missing fields with 400 and changes nothing', async () => {
    await seedPortal('m-bad');
    const before = await snapshot();
    const res = await post('event=ONAPPUNINSTALL&auth[member_id]=m-bad');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'invalid_payload',
      message: expect.stringContaining('auth[application_token] is missing'),
    });
    expect(res.json().message).toContain('auth[domain] is missing');
    expect(await snapshot()).toEqual(before);
  });

  it('acknowledges unknown events without error', async () => {
    const res = await post(
      'event=ONCRMLEADADD&data[FIELDS][ID]=5&auth[domain]=portal.example.com&auth[member_id]=m&auth[application_token]=abc',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: 'ignored' });
  });

  it('rejects a JSON array body or nested auth tricks as bad input, not a crash', async () => {
    const res = await app.inject({ method: 'POST', url: '/events', payload: [1, 2] });
    expect(res.statusCode).toBe(400);
    const trick = await post(
      'event=ONAPPUNINSTALL&auth[member_id][]=a&auth[domain]=x.com&auth[application_token]=abc',
    );
    expect(trick.statusCode).toBe(400);
    expect(trick.json().message).toContain('auth[member_id] is missing');
  });
});
