// Request limits: per-IP and per-portal rate limits answer 429 with a clear code, /healthz
// stays reachable, and a client that never finishes its request is cut off.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb.close());

const event = (memberId: string) => ({
  method: 'POST' as const,
  url: '/events',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: `event=ONTEST&auth[domain]=p.example.com&auth[member_id]=${memberId}&auth[application_token]=abc`,
});

describe('rate limits', () => {
  it('per portal: the 6th request naming one portal within a minute gets 429; other portals are unaffected', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_PORTAL: '5', RATE_LIMIT_PER_IP: '1000' });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await app.inject(event('busyportal'))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await app.inject(event('busyportal'));
    expect(refused.json()).toMatchObject({
      error: 'rate_limited',
      message: expect.stringContaining('this portal'),
    });
    expect((await app.inject(event('quietportal'))).statusCode).toBe(200);
    await app.close();
  });

  it('per address: past the limit every route answers 429, except /healthz', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_PORTAL: '1000' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.inject(event(`portal${i}`))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await app.inject(event('another'))).json()).toMatchObject({ error: 'rate_limited' });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    // Another address has its own budget.
    expect((await app.inject({ ...event('x'), remoteAddress: '10.9.8.7' })).statusCode).toBe(200);
    await app.close();
  });

  it('does not trust X-Forwarded-For unless TRUST_PROXY says so', async () => {
    const { app } = await buildTestApp(testDb, { RATE_LIMIT_PER_IP: '1', RATE_LIMIT_PER_PORTAL: '1000' });
    const spoofed = (ip: string) => ({
      ...event('p'),
      headers: { ...event('p').headers, 'x-forwarded-for': ip },
    });
    expect((await app.inject(spoofed('1.1.1.1'))).statusCode).toBe(200);
    expect((await app.inject(spoofed('2.2.2.2'))).statusCode).toBe(429);
    await app.close();
  });
});

describe('request timeout', () => {
  it('closes a connection whose request never completes', async () => {
    // The request deadline must stay below the request timeout (config.ts).
    const { app } = await buildTestApp(testDb, { REQUEST_TIMEOUT_MS: '500', REQUEST_DEADLINE_MS: '400' });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        // Headers promise a body that never comes.
        socket.write(
          'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nevent=',
        );
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
    });
    // Cut off (by the connection timeout, or a 408), never answered as if the body had arrived.
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    // Real time: Node's HTTP server times the socket itself (no clock seam); 20 times the timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
    await app.close();
  });
});
