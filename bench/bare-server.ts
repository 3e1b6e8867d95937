// The baseline for the widget benchmark: a Fastify route that parses the same form body
// (same parser) and renders the same template with the same view engine, with no logic at
// all: no validation, no database, no verification, a fixed view. Usage: tsx bench/bare-server.ts PORT
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { parseForm } from '../src/form.js';
import { translator } from '../src/i18n.js';
import views from '../src/plugins/views.js';

const SETTINGS_VIEW = {
  siteId: 30,
  site: { id: 30, title: 'Demo Store', code: 'demo-store', deleted: false },
  pages: [
    { id: 30, title: 'Home' },
    { id: 31, title: 'Catalog' },
    { id: 32, title: 'Personal Section' },
  ],
  special: ['mainpage', 'catalog', 'personal', 'cart', 'order', 'payment', 'compare', 'feedback'].map(
    (type, i) => ({
      type,
      landingId: i < 2 ? 30 + i : null,
      url: i < 2 ? `http://127.0.0.1:4001/pub/site/demo-store/page${i}/` : null,
    }),
  ),
  offeredTypes: ['mainpage', 'catalog', 'personal', 'cart', 'order', 'payment', 'compare', 'feedback'],
  allTypes: ['mainpage', 'catalog', 'personal', 'cart', 'order', 'payment', 'compare', 'feedback'],
};

const BLOCK_VIEW = {
  blockId: 996,
  code: '43.4.cover_with_price_text_button_bgimg',
  block: { id: 996, code: '43.4.cover_with_price_text_button_bgimg', name: 'Cover' },
  page: { id: 30, title: 'Home', siteId: 30 },
  site: { id: 30, title: 'Demo Store' },
  offeredTypes: SETTINGS_VIEW.offeredTypes,
};

const app = Fastify({ logger: false });
await app.register(formbody, { parser: parseForm });
await app.register(views);
const base = { lang: 'en', t: translator('en'), token: 'x'.repeat(600), flash: null };
app.post('/placements/settings', async (_request, reply) =>
  reply.view('settings', { ...base, view: SETTINGS_VIEW, action: '/placements/settings/action' }),
);
app.post('/placements/block', async (_request, reply) =>
  reply.view('block', { ...base, view: BLOCK_VIEW, action: '/placements/block/action' }),
);
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
// Exit cleanly on SIGTERM, so a CPU profile (BENCH_PROFILE) of this process is written too.
process.on('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
