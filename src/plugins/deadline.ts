// Gives every interactive request one deadline (REQUEST_DEADLINE_MS) for all the portal calls
// it makes (see bitrix24/deadline.ts). Past it the REST client stops waiting and retrying, and
// the error handler answers with the `deadline_exceeded` page (503). Should a handler still not
// have answered shortly after (something that ignores the deadline, e.g. a slow database or a
// token refresh that must finish), a last-resort timer answers with the same page: the user
// always gets a page, never a closed connection.
import type { FastifyReply, preValidationHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Deadline, runWithDeadline } from '../bitrix24/deadline.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Give the route the request deadline (default: every page route but /admin). */
    deadline?: boolean;
  }
}

/**
 * Someone waits for these in an iframe: the pages (install, widgets and their forms, any page
 * added later). The admin's actions (check, rebind) are background work with their own budgets,
 * as are events and everything outside requests.
 */
export function isInteractive(route: {
  url: string;
  config?: { html?: boolean; deadline?: boolean };
}): boolean {
  return route.config?.deadline ?? (route.config?.html === true && !route.url.startsWith('/admin'));
}

/** Time after the deadline for the handler to turn it into its own page before the last resort answers. */
export const DEADLINE_GRACE_MS = 500;

export interface DeadlineOptions {
  deadlineMs: number;
}

export default fp<DeadlineOptions>(
  async (app, { deadlineMs }) => {
    // Runs the rest of the request (its handler included) under a deadline counted from arrival,
    // with a last-resort answer in case the handler has not answered shortly after it. (Not
    // Fastify's handlerTimeout: its timer is cleared once a request's body has been read.)
    const armLastResort = (reply: FastifyReply, deadline: Deadline) => {
      const lastResort = setTimeout(() => {
        if (!reply.sent && !reply.raw.headersSent)
          reply.send(deadline.exceeded('before the handler answered'));
      }, deadline.remaining() + DEADLINE_GRACE_MS);
      reply.raw.once('close', () => clearTimeout(lastResort));
    };
    // A warm widget open answers within the event-loop turn it arrived in (everything it needs
    // is cached), so it needs no timer: the requests of a turn are looked at once its I/O is
    // done (one setImmediate per turn), and only those still unanswered get one. A timer and a
    // close listener per request were 4 % of a warm open.
    const arrived: [FastifyReply, Deadline][] = [];
    const armUnanswered = () => {
      for (const [reply, deadline] of arrived) if (!reply.sent) armLastResort(reply, deadline);
      arrived.length = 0;
    };
    const enter: preValidationHookHandler = (_request, reply, done) => {
      const deadline = Deadline.after(deadlineMs, performance.now() - reply.elapsedTime);
      if (arrived.push([reply, deadline]) === 1) setImmediate(armUnanswered);
      runWithDeadline(deadline, () => done());
    };
    app.addHook('onRoute', (route) => {
      if (!isInteractive(route)) return;
      const own = route.preValidation ? [route.preValidation].flat() : [];
      route.preValidation = [enter, ...own];
    });
  },
  { name: 'deadline' },
);
