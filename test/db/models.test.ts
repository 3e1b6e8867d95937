// Every model and every column written and read back through the generated client, on the
// suite's database (SQLite with `npm test`, PostgreSQL with `npm run test:pg`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

describe(`models round-trip (${process.env.TEST_DATABASE ?? 'sqlite'})`, () => {
  it('writes and reads every column of every model', async () => {
    const db = testDb.db;
    const at = new Date('2026-01-02T03:04:05.678Z');
    const installation = await db.installation.create({
      data: {
        memberId: 'm-round-trip',
        domain: 'portal.example.com',
        clientEndpoint: 'https://portal.example.com/rest/',
        serverEndpoint: 'https://oauth.bitrix.info/rest/',
        applicationToken: 'app-token',
        status: 'active',
        scope: 'landing,placement',
        lang: 'de',
        installedAt: at,
        uninstalledAt: at,
        lastError: 'boom',
        lastErrorAt: at,
        installGrantHash: 'h',
        token: {
          create: {
            accessToken: 'a',
            refreshToken: 'r',
            expiresAt: at,
            userId: 7,
            version: 3,
            refreshedAt: at,
            refreshLeaseOwner: 'p1',
            refreshLeaseUntil: at,
          },
        },
        bindings: {
          create: [
            { kind: 'placement', code: 'LANDING_SETTINGS', handler: 'https://x/y', title: 'T', boundAt: at },
          ],
        },
        options: { create: [{ key: 'k', value: 'v' }] },
      },
    });
    const read = await db.installation.findUniqueOrThrow({
      where: { memberId: 'm-round-trip' },
      include: { token: true, bindings: true, options: true },
    });
    expect(read).toMatchObject({
      id: installation.id,
      domain: 'portal.example.com',
      clientEndpoint: 'https://portal.example.com/rest/',
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      applicationToken: 'app-token',
      status: 'active',
      scope: 'landing,placement',
      lang: 'de',
      installedAt: at,
      uninstalledAt: at,
      lastError: 'boom',
      lastErrorAt: at,
      installGrantHash: 'h',
      token: {
        installationId: installation.id,
        accessToken: 'a',
        refreshToken: 'r',
        expiresAt: at,
        userId: 7,
        version: 3,
        refreshedAt: at,
        refreshLeaseOwner: 'p1',
        refreshLeaseUntil: at,
      },
      bindings: [
        { kind: 'placement', code: 'LANDING_SETTINGS', handler: 'https://x/y', title: 'T', boundAt: at },
      ],
      options: [{ installationId: installation.id, key: 'k', value: 'v' }],
    });
    expect(read.createdAt).toBeInstanceOf(Date);
    expect(read.updatedAt).toBeInstanceOf(Date);
    expect(read.token?.updatedAt).toBeInstanceOf(Date);
    expect(read.options[0]?.updatedAt).toBeInstanceOf(Date);
  });

  it('applies defaults and constraints', async () => {
    const db = testDb.db;
    const row = await db.installation.create({
      data: { memberId: 'm-defaults', domain: 'd', clientEndpoint: 'https://d/rest/' },
    });
    expect(row.status).toBe('new');
    await expect(
      db.installation.create({ data: { memberId: 'm-defaults', domain: 'd', clientEndpoint: 'x' } }),
    ).rejects.toMatchObject({ code: 'P2002' });
    await db.binding.create({
      data: { installationId: row.id, kind: 'event', code: 'ONAPPUNINSTALL', handler: 'h' },
    });
    await expect(
      db.binding.create({
        data: { installationId: row.id, kind: 'event', code: 'ONAPPUNINSTALL', handler: 'h' },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    await db.oAuthToken.create({
      data: { installationId: row.id, accessToken: 'a', refreshToken: 'r', expiresAt: new Date() },
    });
    // Deleting the installation removes what belongs to it.
    await db.installation.delete({ where: { id: row.id } });
    expect(await db.binding.count({ where: { installationId: row.id } })).toBe(0);
    expect(await db.oAuthToken.count({ where: { installationId: row.id } })).toBe(0);
  });
});
