// The install benchmark's floor: an install URL that parses the portal's form POST with the
// app's own parser and answers a small page, doing nothing else (no verification, database or
// binding; the benchmark sends the one bind batch itself). Usage: tsx bench/lib/bare-install-server.ts PORT
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { parseForm } from '../../src/form.js';

const app = Fastify({ logger: false });
await app.register(formbody, { parser: parseForm });
app.post('/install', async (_request, reply) =>
  reply.type('text/html; charset=utf-8').send('<!doctype html><p>Installed.</p>'),
);
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
