// Templates are read and compiled once: a server started without NODE_ENV=production (plain
// `node dist/server.js`) must not re-read every template on every page.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { VIEWS_DIR } from '../../src/paths.js';
import views from '../../src/plugins/views.js';

const root = mkdtempSync(join(tmpdir(), 'views-'));
cpSync(VIEWS_DIR, root, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function renderTwice(nodeEnv: string | undefined): Promise<[string, string]> {
  const saved = process.env.NODE_ENV;
  if (nodeEnv === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = nodeEnv;
  try {
    writeFileSync(join(root, 'probe.eta'), 'first <%= it.n %>');
    const app = Fastify();
    await app.register(views, { root });
    app.get('/', async (request, reply) => reply.view('probe', { n: (request.query as { n: string }).n }));
    const first = (await app.inject('/?n=1')).body;
    writeFileSync(join(root, 'probe.eta'), 'second <%= it.n %>');
    const second = (await app.inject('/?n=2')).body;
    await app.close();
    return [first, second];
  } finally {
    process.env.NODE_ENV = saved;
  }
}

describe('views', () => {
  it('compiles each template once, with or without NODE_ENV=production', async () => {
    expect(await renderTwice(undefined)).toEqual(['first 1', 'first 2']);
    expect(await renderTwice('production')).toEqual(['first 1', 'first 2']);
    expect(await renderTwice('test')).toEqual(['first 1', 'first 2']);
  });

  it('re-reads templates in development, for editing them live', async () => {
    expect(await renderTwice('development')).toEqual(['first 1', 'second 2']);
  });
});
