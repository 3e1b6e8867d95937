// /admin: installations, recent errors and per-portal actions for the app's operator. Off
// (404) unless ADMIN_TOKEN is set. The token travels with every request, as a bearer header
// or a form field, never in a cookie: a page on another site cannot make a browser send it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import { z } from 'zod';
import { bearerToken, tokenMatches } from '../admin/bearer.js';
import { checkInstallation } from '../admin/check.js';
import { forgetPortal } from '../admin/forget.js';
import { formatTime } from '../admin/format.js';
import { opsServices } from '../admin/ops.js';
import { rebindInstallation } from '../admin/rebind.js';
import { describeRequestError, RecentErrors } from '../admin/recent-errors.js';
import type { Flash } from '../placements/messages.js';

const adminForm = z.object({
  token: z.string().max(512).optional(),
  portal: z.string().max(64).optional(),
});

interface Access {
  granted: boolean;
  /** The token as typed into the form, put back into the page's forms (null: bearer header). */
  formToken: string | null;
}

export default fp(
  async (app) => {
    if (!app.config.adminToken) return;
    const expected: string = app.config.adminToken;
    const ops = opsServices(app);
    const recent = new RecentErrors(50);

    app.addHook('onError', async (request, _reply, error) => {
      recent.add(describeRequestError(request.method, request.routeOptions.url ?? 'unmatched', error));
    });

    function access(request: FastifyRequest): Access {
      const header = bearerToken(request.headers.authorization);
      if (header !== null) return { granted: tokenMatches(header, expected), formToken: null };
      const form = adminForm.safeParse(request.body ?? {});
      const typed = form.success ? (form.data.token ?? null) : null;
      return { granted: tokenMatches(typed, expected), formToken: typed };
    }

    function login(request: FastifyRequest, reply: FastifyReply, attempted: boolean) {
      if (attempted) (request.log as unknown as Logger).warn({ ip: request.ip }, 'admin: wrong token');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="admin"')
        .header('cache-control', 'no-store')
        .view('admin-login', { title: 'Admin', wrong: attempted });
    }

    async function dashboard(reply: FastifyReply, formToken: string | null, flash: Flash | null) {
      const installations = await app.installations.summaries();
      const failing = installations
        .filter((i) => i.lastError)
        .sort((a, b) => (b.lastErrorAt?.getTime() ?? 0) - (a.lastErrorAt?.getTime() ?? 0));
      return reply.header('cache-control', 'no-store').view('admin', {
        title: 'Admin',
        publicUrl: app.config.publicUrl,
        installations,
        failing,
        recent: recent.list(),
        formToken,
        flash,
        time: formatTime,
      });
    }

    /** Runs `action` on the form's portal when the token is right; the dashboard shows the outcome. */
    function portalAction(action: (memberId: string) => Promise<Flash>) {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const { granted, formToken } = access(request);
        if (!granted) return login(request, reply, true);
        const portal = adminForm.safeParse(request.body ?? {}).data?.portal;
        const flash = portal ? await action(portal) : { kind: 'error' as const, text: 'No portal chosen.' };
        return dashboard(reply, formToken, flash);
      };
    }

    const html = { config: { html: true } };

    app.get('/admin', html, async (request, reply) => {
      const { granted, formToken } = access(request);
      if (!granted) return login(request, reply, request.headers.authorization !== undefined);
      return dashboard(reply, formToken, null);
    });

    app.post('/admin', html, async (request, reply) => {
      const { granted, formToken } = access(request);
      if (!granted) return login(request, reply, true);
      return dashboard(reply, formToken, null);
    });

    app.post(
      '/admin/check',
      html,
      portalAction(async (memberId) => {
        const installation = await app.installations.find(memberId);
        if (!installation) return { kind: 'error', text: `No installation with member_id ${memberId}.` };
        const result = await checkInstallation(ops, installation);
        return result.outcome === 'ok'
          ? { kind: 'ok', text: `${result.domain}: the portal accepts the stored tokens.` }
          : {
              kind: 'error',
              code: result.outcome,
              text: `${result.domain}: ${result.outcome} (${result.detail}).`,
            };
      }),
    );

    app.post(
      '/admin/rebind',
      html,
      portalAction(async (memberId) => {
        const installation = await app.installations.find(memberId);
        if (!installation) return { kind: 'error', text: `No installation with member_id ${memberId}.` };
        if (installation.status !== 'active') {
          return {
            kind: 'error',
            text: `${installation.domain} is ${installation.status}; only active portals are rebound.`,
          };
        }
        const result = await rebindInstallation(ops, installation);
        return result.ok
          ? {
              kind: 'ok',
              text: `${result.domain}: ${result.bound} handler(s) bound to ${app.config.publicUrl}, ${result.unbound} stale unbound.`,
            }
          : { kind: 'error', text: `${result.domain}: rebind failed: ${result.failures.join('; ')}.` };
      }),
    );

    app.post(
      '/admin/purge',
      html,
      portalAction(async (memberId) => {
        const installation = await app.installations.find(memberId);
        if (!installation) return { kind: 'error', text: `No installation with member_id ${memberId}.` };
        await forgetPortal(ops, memberId);
        return { kind: 'ok', text: `${installation.domain}: all of its data was deleted.` };
      }),
    );
  },
  { name: 'admin', dependencies: ['services', 'views'] },
);
