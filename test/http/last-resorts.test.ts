// The request deadline's last resort (plugins/deadline.ts): one sweep for every request in
// flight. Real Fastify replies on a listening server; the sweeps are called by hand with the
// time they should see, so nothing here depends on how fast the machine is.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Deadline, isDeadlineExceeded } from '../../src/bitrix24/deadline.js';
import { DEADLINE_GRACE_MS, LastResorts } from '../../src/plugins/deadline.js';

/** Never swept by its own timer during a test: only the sweeps the test makes. */
const HOUR = 3_600_000;

let app: FastifyInstance;
const until = async (ready: () => boolean) => {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
};
afterEach(async () => app?.close());

/** A server whose routes register their reply with `resorts`: `/fast` answers, `/hang` never does. */
async function serve(resorts: LastResorts, deadlines: Deadline[], replies: FastifyReply[] = []) {
  app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    reply
      .code(isDeadlineExceeded(error) ? 503 : 500)
      .send({ code: isDeadlineExceeded(error) ? error.code : 'other' });
  });
  const enlist = (reply: FastifyReply) => {
    const deadline = Deadline.after(1_000);
    deadlines.push(deadline);
    replies.push(reply);
    resorts.add(reply, deadline);
  };
  app.get('/fast', async (_request, reply) => {
    enlist(reply);
    return 'ok';
  });
  app.get('/streaming', (_request, reply) => {
    enlist(reply);
    reply.raw.writeHead(200, { 'content-type': 'text/plain' });
    reply.raw.write('first part;');
    return new Promise<never>(() => {});
  });
  app.get('/hang', (_request, reply) => {
    enlist(reply);
    return new Promise<never>(() => {});
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('last resorts', () => {
  it('an answered request leaves at the next sweep, and the sweeping stops when none is left', async () => {
    const resorts = new LastResorts(HOUR);
    const url = await serve(resorts, []);
    expect(await (await fetch(`${url}/fast`)).text()).toBe('ok');
    expect([resorts.size, resorts.sweeping]).toEqual([1, true]);
    resorts.sweep();
    expect([resorts.size, resorts.sweeping]).toEqual([0, false]);
  });

  it('a request that never answers gets the deadline page exactly when its grace ends, not before', async () => {
    const resorts = new LastResorts(HOUR);
    const deadlines: Deadline[] = [];
    const url = await serve(resorts, deadlines);
    const answer = fetch(`${url}/hang`);
    await until(() => resorts.size > 0);
    const due = deadlines[0]!.at + DEADLINE_GRACE_MS;
    resorts.sweep(due - 1);
    expect(resorts.size).toBe(1);
    resorts.sweep(due);
    expect(resorts.size).toBe(0);
    const res = await answer;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ code: 'deadline_exceeded' });
  });

  it('a request whose client went away leaves at the next sweep, unanswered', async () => {
    const resorts = new LastResorts(HOUR);
    const replies: FastifyReply[] = [];
    const url = await serve(resorts, [], replies);
    const client = httpRequest(`${url}/hang`);
    client.on('error', () => {});
    client.end();
    await until(() => resorts.size > 0);
    client.destroy();
    await new Promise<void>((resolve) => replies[0]!.raw.once('close', resolve));
    resorts.sweep();
    expect(resorts.size).toBe(0);
    expect(replies[0]!.sent).toBe(false);
  });

  it('a page whose head is already out is left alone, even past its grace', async () => {
    const resorts = new LastResorts(HOUR);
    const deadlines: Deadline[] = [];
    const replies: FastifyReply[] = [];
    const url = await serve(resorts, deadlines, replies);
    const res = await fetch(`${url}/streaming`);
    expect(res.status).toBe(200);
    resorts.sweep(deadlines[0]!.at + DEADLINE_GRACE_MS);
    expect(resorts.size).toBe(0);
    replies[0]!.raw.end('the rest');
    expect(await res.text()).toBe('first part;the rest');
  });
});
