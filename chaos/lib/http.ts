// The harness's HTTP client: undici with its own connection pool per app epoch (a killed
// process leaves dead sockets behind), every answer reduced to status, our error code and time.
import { Agent, request } from 'undici';
import type { FormPost } from './protocol.js';

export interface Answer {
  /** 0: no answer (connection refused, reset, or timed out). */
  status: number;
  /** Our machine-readable code (JSON `error`, the error page's code, or the admin flash's code). */
  code: string | null;
  ms: number;
  body: string;
}

const FORM = 'application/x-www-form-urlencoded';

export function newAgent(): Agent {
  return new Agent({
    connections: 256,
    headersTimeout: 90_000,
    bodyTimeout: 90_000,
    keepAliveTimeout: 2_000,
  });
}

/** The code in a JSON error, in an error page (`Code: <code>x</code>`), or in an admin flash. */
export function errorCode(body: string): string | null {
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { error?: unknown };
      return typeof parsed.error === 'string' ? parsed.error : null;
    } catch {
      return null;
    }
  }
  const meta = /card__meta[\s\S]*?<code>([a-z_]+)<\/code>/.exec(body);
  if (meta) return meta[1]!;
  return /data-code="([a-z_]+)"/.exec(body)?.[1] ?? null;
}

export async function send(
  agent: Agent,
  url: string,
  init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const start = performance.now();
  try {
    const res = await request(url, {
      dispatcher: agent,
      method: init.method ?? 'POST',
      headers: { 'content-type': FORM, ...init.headers },
      body: init.body,
    });
    const body = await res.body.text();
    return {
      status: res.statusCode,
      code: res.statusCode >= 400 ? errorCode(body) : null,
      ms: performance.now() - start,
      body,
    };
  } catch (error) {
    return {
      status: 0,
      code: (error as { code?: string }).code ?? 'network_error',
      ms: performance.now() - start,
      body: '',
    };
  }
}

export const postForm = (agent: Agent, base: string, form: FormPost): Promise<Answer> =>
  send(agent, `${base}${form.path}`, { body: form.body });

export type CheckOutcome = 'ok' | 'needs_reinstall' | 'other';

/**
 * The operator's "check" on /admin: app.info with the installation's stored tokens (refreshing
 * them when they are expired), i.e. a REST call on the app's own tokens, over HTTP.
 */
export async function adminCheck(
  agent: Agent,
  base: string,
  adminToken: string,
  memberId: string,
): Promise<Answer & { outcome: CheckOutcome }> {
  const answer = await send(agent, `${base}/admin/check`, {
    body: new URLSearchParams({ portal: memberId }).toString(),
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const flash = /data-flash="(ok|error)"(?: data-code="([a-z_]+)")?/.exec(answer.body);
  const outcome: CheckOutcome =
    answer.status === 200 && flash?.[1] === 'ok'
      ? 'ok'
      : flash?.[2] === 'needs_reinstall'
        ? 'needs_reinstall'
        : 'other';
  const code = answer.status === 200 && flash?.[1] === 'error' ? (flash[2] ?? 'check_error') : answer.code;
  return { ...answer, code, outcome };
}
