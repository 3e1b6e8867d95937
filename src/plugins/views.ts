import view from '@fastify/view';
import { Eta } from 'eta';
import fp from 'fastify-plugin';
import { VIEWS_DIR } from '../paths.js';

export interface ViewsOptions {
  /** Where the templates are (tests use a copy). */
  root?: string;
}

export default fp<ViewsOptions>(
  async (app, options) => {
    const root = options.root ?? VIEWS_DIR;
    // Templates are compiled once and cached outside development. @fastify/view re-applies its
    // own `production` flag (NODE_ENV === 'production' by default) to the engine on every render,
    // so it must be told too: otherwise a server started without NODE_ENV re-reads and
    // recompiles every template on every page.
    const cache = process.env.NODE_ENV !== 'development';
    const eta = new Eta({ views: root, cache, autoEscape: true });
    await app.register(view, { engine: { eta }, root, viewExt: 'eta', production: cache });
  },
  { name: 'views' },
);
