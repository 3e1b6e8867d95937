// What the app's logger writes about a reply, and redaction of cyclic values (issue #18,
// mutation survivors of logger.ts and redact.ts): a reply is logged as its status, method and
// route pattern, never its URL; a cyclic value is cut, never followed forever.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from '../../src/bitrix24/redact.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture } from '../helpers/app.js';

describe('reply log lines', () => {
  it('"request completed" names the status, the method and the route pattern, or null for no route', async () => {
    const capture = new LogCapture();
    const app = Fastify({ loggerInstance: createLogger('info', capture.stream) });
    app.get('/things/:id', async () => ({ ok: true }));
    try {
      expect((await app.inject('/things/7?auth=SECRET-Q')).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/nowhere/8' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
    const completed = capture.lines
      .map((line) => JSON.parse(line) as { msg: string; res?: unknown; req?: unknown })
      .filter((line) => line.msg === 'request completed');
    expect(completed.map((line) => line.res)).toEqual([
      { statusCode: 200, method: 'GET', route: '/things/:id' },
      { statusCode: 404, method: 'POST', route: null },
    ]);
    expect(capture.text).not.toContain('SECRET');
  });
});

describe('redactSecrets', () => {
  it('cuts a cycle where it closes and still redacts around it', () => {
    const node: Record<string, unknown> = { name: 'n', auth: 'SECRET-A' };
    node.self = node;
    node.list = [node, { refresh_token: 'SECRET-R' }];
    expect(redactSecrets(node)).toEqual({
      name: 'n',
      auth: REDACTED,
      self: '[cycle]',
      list: ['[cycle]', { refresh_token: REDACTED }],
    });
  });
});
