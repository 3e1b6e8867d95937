// Gives every interactive request one deadline (REQUEST_DEADLINE_MS) for all the portal calls
// it makes (see bitrix24/deadline.ts). Past it the REST client stops waiting and retrying, and
// the error handler answers with the `deadline_exceeded` page (503). Should a handler still not
// have answered shortly after (something that ignores the deadline, e.g. a slow database or a
// token refresh that must finish), the last resort answers with the same page: the user
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

/** How often the last resorts are looked at: an answer comes at most this late after its grace. */
export const LAST_RESORT_SWEEP_MS = DEADLINE_GRACE_MS / 5;

interface Waiting {
  reply: FastifyReply;
  deadline: Deadline;
  /** performance.now() at which the last resort answers. */
  due: number;
}

/**
 * The last-resort answers of requests in flight, looked at together by one timer instead of a
 * timer and a 'close' listener per request (both showed in warm widget-open profiles). A request
 * leaves the set at the first sweep after it answered or its connection closed.
 */
export class LastResorts {
  private readonly waiting = new Set<Waiting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs = LAST_RESORT_SWEEP_MS) {}

  add(reply: FastifyReply, deadline: Deadline): void {
    this.waiting.add({ reply, deadline, due: deadline.at + DEADLINE_GRACE_MS });
    // Runs only while requests are in flight; it keeps no process alive on its own.
    this.timer ??= setInterval(() => this.sweep(), this.everyMs).unref();
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Whether the sweep timer runs (only while requests are in flight). */
  get sweeping(): boolean {
    return this.timer !== undefined;
  }

  sweep(now = performance.now()): void {
    for (const entry of this.waiting) {
      const { reply } = entry;
      // Answered (or answering: its head is out), or its connection is gone.
      if (reply.raw.headersSent || reply.raw.destroyed) {
        this.waiting.delete(entry);
      } else if (now >= entry.due) {
        this.waiting.delete(entry);
        reply.send(entry.deadline.exceeded('before the handler answered'));
      }
    }
    if (this.waiting.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export default fp<DeadlineOptions>(
  async (app, { deadlineMs }) => {
    const lastResorts = new LastResorts();
    app.addHook('onClose', async () => lastResorts.stop());
    // Runs the rest of the request (its handler included) under a deadline counted from arrival,
    // with a last-resort answer in case the handler has not answered shortly after it. (Not
    // Fastify's handlerTimeout: its timer is cleared once a request's body has been read.)
    const enter: preValidationHookHandler = (_request, reply, done) => {
      const deadline = Deadline.after(deadlineMs, performance.now() - reply.elapsedTime);
      lastResorts.add(reply, deadline);
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
