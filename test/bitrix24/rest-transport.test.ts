// The REST envelope as Bitrix24 writes it, including the odd cases the docs allow.
import { describe, expect, it } from 'vitest';
import { sendRestRequest } from '../../src/bitrix24/rest-transport.js';

const answer = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status });
const request = {
  endpoint: 'https://portal.example.com/rest/',
  method: 'app.info',
  params: {},
  accessToken: 'token123',
  timeoutMs: 1000,
};

describe('sendRestRequest errors', () => {
  it('keeps the description of an error whose code is empty (_includes/error-info.md)', async () => {
    await expect(
      sendRestRequest(answer(400, { error: '', error_description: 'Portal says no.' }), request),
    ).rejects.toMatchObject({ code: '', description: 'Portal says no.', status: 400 });
  });

  it('names an HTTP error without code or description by its status', async () => {
    await expect(sendRestRequest(answer(502, { error: '' }), request)).rejects.toMatchObject({
      code: 'HTTP_502',
      status: 502,
    });
  });
});
