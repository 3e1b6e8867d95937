// While the app closes, answers still in progress tell their clients to drop the connection
// (`Connection: close`). Node closes only the connections idle when close() begins; one that
// goes idle later would otherwise hold the shutdown until its keep-alive timeout (72 s).
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    // Callback style: an async hook would cost every response a promise round trip.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'graceful-close' },
);
