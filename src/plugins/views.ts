import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import view from '@fastify/view';
import { Eta } from 'eta';
import fp from 'fastify-plugin';

export const VIEWS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'views');

export default fp(
  async (app) => {
    // Templates are compiled once and cached outside development.
    const eta = new Eta({
      views: VIEWS_DIR,
      cache: process.env.NODE_ENV !== 'development',
      autoEscape: true,
    });
    await app.register(view, { engine: { eta }, root: VIEWS_DIR, viewExt: 'eta' });
  },
  { name: 'views' },
);
