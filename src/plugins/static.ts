import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import { PUBLIC_DIR } from '../paths.js';

const require = createRequire(import.meta.url);
// The Bitrix24 JS SDK is served by us from node_modules, never from a CDN.
const B24_SDK_DIR = join(dirname(require.resolve('@bitrix24/b24jssdk/package.json')), 'dist', 'umd');

export default fp(
  async (app) => {
    await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/static/', maxAge: '1h' });
    await app.register(fastifyStatic, {
      root: B24_SDK_DIR,
      prefix: '/vendor/b24jssdk/',
      decorateReply: false,
      maxAge: '1d',
      allowedPath: (path) => path.endsWith('.js'),
    });
  },
  { name: 'static' },
);
