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
    app.addHook('onSend', async (_request, reply, payload) => {
      if (closing) reply.header('connection', 'close');
      return payload;
    });
  },
  { name: 'graceful-close' },
);
