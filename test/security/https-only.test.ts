// Without B24_ALLOW_HTTP, a portal served over plain http is refused before anything is
// stored or fetched, for installs and widget opens alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

const form = {
  AUTH_ID: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  AUTH_EXPIRES: '3600',
  REFRESH_ID: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
  member_id: 'abcdef1234567890abcdef1234567890',
  status: 'L',
};

describe('https only', () => {
  it('refuses PROTOCOL=0 on install and on widgets, storing nothing', async () => {
    const { app } = await buildTestApp(testDb, {
      B24_ALLOW_HTTP: 'false',
      B24_OAUTH_URL: 'http://127.0.0.1:1',
    });
    const install = await app.inject({
      method: 'POST',
      url: '/install?DOMAIN=portal.example.com&PROTOCOL=0&LANG=en&APP_SID=abc',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...form, PLACEMENT: 'DEFAULT', PLACEMENT_OPTIONS: '' }).toString(),
    });
    expect(install.statusCode).toBe(400);
    expect(install.body).toContain('https_required');
    const widget = await app.inject({
      method: 'POST',
      url: '/placements/settings?DOMAIN=portal.example.com&PROTOCOL=0&LANG=en&APP_SID=abc',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        ...form,
        PLACEMENT: 'LANDING_SETTINGS',
        PLACEMENT_OPTIONS: '{"SITE_ID":"30"}',
      }).toString(),
    });
    expect(widget.statusCode).toBe(400);
    expect(widget.body).toContain('https_required');
    expect(await testDb.db.installation.count()).toBe(0);
    await app.close();
  });
});
