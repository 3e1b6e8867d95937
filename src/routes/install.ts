import type { FastifyPluginAsync } from 'fastify';
import { installPayloadSchema, mergeQueryAndBody, parsePayload } from '../bitrix24/payloads.js';
import { portalOrigin } from '../bitrix24/portal-origin.js';
import { resolveLang, translator } from '../i18n.js';

/** The install handler Bitrix24 opens in an iframe (form POST; DOMAIN etc. in the query). */
const install: FastifyPluginAsync = async (app) => {
  app.post(
    '/install',
    { config: { html: true }, preHandler: app.portalRateLimit },
    async (request, reply) => {
      const payload = parsePayload(
        installPayloadSchema,
        mergeQueryAndBody(request.query, request.body),
        'install request',
      );
      const lang = resolveLang(payload.LANG);
      const origin = portalOrigin(payload.PROTOCOL, payload.DOMAIN);
      if (origin) reply.allowFraming(origin);
      const { installation, report } = await app.installer.install({
        memberId: payload.member_id,
        domain: payload.DOMAIN,
        protocol: payload.PROTOCOL,
        lang,
        refreshToken: payload.REFRESH_ID,
        accessToken: payload.AUTH_ID,
        expiresInSeconds: payload.AUTH_EXPIRES,
        scope: payload.APPLICATION_SCOPE ?? null,
        applicationToken: payload.APPLICATION_TOKEN ?? null,
        serverEndpoint: payload.SERVER_ENDPOINT ?? null,
      });
      return reply.view('install', {
        lang,
        t: translator(lang),
        domain: installation.domain,
        placements: report.bound.filter((b) => b.kind === 'placement'),
        events: report.bound.filter((b) => b.kind === 'event'),
      });
    },
  );
};

export default install;
