import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { eventInput, eventPayloadSchema, parsePayload } from '../bitrix24/payloads.js';
import { resolveLang } from '../i18n.js';
import { handleUninstall } from '../installations/uninstall.js';

/** Bitrix24 events: form-encoded with bracketed keys (event, data[...], auth[...], ts). */
const events: FastifyPluginAsync = async (app) => {
  app.post('/events', { preHandler: app.portalRateLimit }, async (request) => {
    const event = parsePayload(eventPayloadSchema, eventInput(request.body), 'event');
    switch (event.event) {
      case 'ONAPPUNINSTALL': {
        const outcome = await handleUninstall(
          {
            store: app.installations,
            log: request.log as unknown as Logger,
            tokensRevoked: (i) => app.tokensRevoked(i),
          },
          event,
        );
        return { result: outcome };
      }
      case 'ONAPPINSTALL': {
        const { auth } = event;
        if (!auth.refresh_token) {
          return { result: 'ignored', reason: 'no refresh token in the event' };
        }
        const { installation } = await app.installer.install({
          memberId: auth.member_id,
          domain: auth.domain,
          protocol: (auth.client_endpoint ?? '').startsWith('http://') ? 'http' : 'https',
          lang: resolveLang(typeof event.data.LANGUAGE_ID === 'string' ? event.data.LANGUAGE_ID : 'en'),
          refreshToken: auth.refresh_token,
          accessToken: auth.access_token ?? null,
          expiresInSeconds: auth.expires_in ?? null,
          scope: auth.scope ?? null,
          applicationToken: auth.application_token,
          serverEndpoint: auth.server_endpoint ?? null,
        });
        return { result: 'installed', status: installation.status };
      }
      default:
        // Acknowledge so Bitrix24 does not retry; nothing to do for events we did not ask for.
        request.log.info({ event: event.event, memberId: event.auth.member_id }, 'event ignored');
        return { result: 'ignored' };
    }
  });
};

export default events;
