// While the app closes, answers still in progress tell their clients to drop the connection
// (`Connection: close`). Node closes only the connections idle when close() begins; one that
// goes idle later would otherwise hold the shutdown until its keep-alive timeout (72 s).
//
// Requests that arrive meanwhile (on a connection already open) are refused in our own format:
// 503 `shutting_down`, as JSON or as the error page. Fastify's own answer (return503OnClosing,
// a fixed JSON body) is turned off in app.ts so that they reach this hook.
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

export default fp(
  async (app) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    // Callback style: an async hook would cost every response a promise round trip.
    app.addHook('onRequest', (_request, _reply, done) => {
      if (!closing) return done();
      done(
        new AppError(
          503,
          'shutting_down',
          'The app is restarting and takes no new requests on this connection. Try again in a moment.',
        ),
      );
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'graceful-close' },
);
