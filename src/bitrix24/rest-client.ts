// The REST client of one installation (or one widget user) on one portal: paces requests
// through the portal's leaky bucket and operating-time tracker, renews rejected tokens (at most twice),
// retries what is safe to retry, and speaks batch and paged lists.
import type { Logger } from 'pino';
import type { AccessTokenSource } from './access-token.js';
import { type BatchCommands, encodeCommand, planBatches } from './batch-plan.js';
import { currentDeadline, type Deadline, untilAborted, waitWithin } from './deadline.js';
import {
  type Bitrix24Error,
  bitrix24Error,
  isBitrix24Error,
  ParameterError,
  UnexpectedResponseError,
} from './errors.js';
import type { HttpFetch } from './http.js';
import type { ResponseTime } from './operating-limit.js';
import type { PortalLimits } from './portal-limits.js';
import { redactSecrets } from './redact.js';
import { isValidMethodName, type RestAnswer, sendRestRequest } from './rest-transport.js';
import {
  DEFAULT_RETRY,
  isQueryLimit,
  isReadMethod,
  isRetryableFailure,
  isTokenRejected,
  type ResolvedRetryOptions,
  type RetryOptions,
} from './retry-policy.js';
import { backoffDelay } from './sleep.js';

export type Params = Record<string, unknown>;

export interface RestClientOptions {
  /** The installation's stored client endpoint: the only host this client talks to. */
  endpoint: string;
  memberId: string;
  tokens: AccessTokenSource;
  limits: PortalLimits;
  logger?: Logger;
  fetch?: HttpFetch;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Allow an http:// endpoint (local emulator, development). */
  allowHttp?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Bounds retries, pacing and operating-time waits of the call together. Default: the
   * deadline of the request being handled (see deadline.ts); background work has none.
   */
  deadline?: Deadline;
}

export interface BatchOptions extends CallOptions {
  /** Stop at the first failing command (Bitrix24 `halt=1`); later batches are not sent. */
  halt?: boolean;
}

export interface BatchResult {
  /** Results keyed by command name. */
  result: Record<string, unknown>;
  /** Failed commands, keyed by name, as typed errors carrying the command's method. */
  errors: Record<string, Bitrix24Error>;
  total: Record<string, number>;
  next: Record<string, number>;
  /** Commands not run because an earlier one failed with halt. */
  skipped: string[];
}

export interface ListOptions extends CallOptions {
  /** When `result` is an object holding the items (e.g. `{items: [...]}`), its key. */
  itemsKey?: string;
  /** Batches of pages in flight at once (default 2). */
  concurrency?: number;
}

export interface RestClientStats {
  requests: number;
  rateLimited: number;
  retries: number;
  tokenRenewals: number;
}

/** PHP sends an array keyed 0..n-1 as a JSON list (and an empty one as []): key it again. */
function asRecord(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((item, i) => [String(i), item]));
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function toNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

export class RestClient {
  readonly memberId: string;
  private readonly endpoint: string;
  private readonly tokens: AccessTokenSource;
  private readonly limits: PortalLimits;
  private readonly logger: Logger | undefined;
  private readonly fetchImpl: HttpFetch;
  private readonly timeoutMs: number;
  private readonly retry: ResolvedRetryOptions;
  readonly stats: RestClientStats = { requests: 0, rateLimited: 0, retries: 0, tokenRenewals: 0 };

  constructor(options: RestClientOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
      throw new ParameterError({
        code: 'INVALID_REQUEST',
        status: 0,
        description: `client endpoint must be https (got ${url.protocol})`,
        method: '*',
      });
    }
    this.endpoint = url.toString();
    this.memberId = options.memberId;
    this.tokens = options.tokens;
    this.limits = options.limits;
    this.logger = options.logger?.child({ memberId: options.memberId });
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /** Calls `method` and returns its `result`. */
  async call<T = unknown>(method: string, params: Params = {}, options: CallOptions = {}): Promise<T> {
    const answer = await this.request(method, params, options);
    return answer.result as T;
  }

  /** Calls `method` and returns the whole answer (result, time, next, total). */
  async request(method: string, params: Params = {}, options: CallOptions = {}): Promise<RestAnswer> {
    if (!isValidMethodName(method) || method.toLowerCase() === 'batch') {
      throw new ParameterError({
        code: 'INVALID_PARAMS',
        status: 0,
        description: method.toLowerCase() === 'batch' ? 'use batch() for batch' : 'invalid method name',
        method,
      });
    }
    return this.send(method, params, [method], isReadMethod(method), options);
  }

  /**
   * Runs named commands through `batch`, 50 per request; results stay keyed by name.
   * Commands linked by `$result[name]` go in the same request (or are refused if too many).
   */
  async batch(commands: BatchCommands, options: BatchOptions = {}): Promise<BatchResult> {
    const halt = options.halt ?? false;
    const plan = planBatches(commands);
    const out: BatchResult = { result: {}, errors: {}, total: {}, next: {}, skipped: [] };
    const runOne = async (names: string[]) => {
      const cmd: Record<string, string> = {};
      const methods = ['batch'];
      for (const name of names) {
        const command = commands[name]!;
        cmd[name] = encodeCommand(command);
        methods.push(command.method);
      }
      const read = names.every((name) => isReadMethod(commands[name]!.method));
      const answer = await this.send('batch', { halt: halt ? 1 : 0, cmd }, methods, read, options);
      return this.collectBatch(commands, names, answer, out);
    };
    if (halt) {
      // In order, stopping at the first failure: later batches may depend on earlier effects.
      for (const [i, names] of plan.entries()) {
        const failed = await runOne(names);
        if (failed) {
          out.skipped.push(...plan.slice(i + 1).flat());
          break;
        }
      }
    } else {
      // Batches never reference each other, so they may run together; the bucket paces them.
      // A few workers pick batches in order and encode each just before it queues: a call of
      // 1,000 batches sends its first at once instead of after encoding all, and leaves room
      // in the bucket's queue for other callers. Twice the in-flight limit keeps a request
      // waiting for every slot that frees up.
      let next = 0;
      let failed = false;
      const worker = async () => {
        try {
          while (!failed && next < plan.length) await runOne(plan[next++]!);
        } catch (error) {
          failed = true; // the call rejects: do not spend the bucket on batches nobody reads
          throw error;
        }
      };
      const workers = Math.min(plan.length, 2 * this.limits.bucket.maxInFlight);
      await Promise.all(Array.from({ length: workers }, worker));
    }
    return out;
  }

  /** Merges one batch answer into `out`; true when a command failed or did not run. */
  private collectBatch(
    commands: BatchCommands,
    names: string[],
    answer: RestAnswer,
    out: BatchResult,
  ): boolean {
    const body = asRecord(answer.result);
    const results = asRecord(body.result);
    const errors = asRecord(body.result_error);
    const totals = asRecord(body.result_total);
    const nexts = asRecord(body.result_next);
    const times = asRecord(body.result_time);
    let failed = false;
    for (const name of names) {
      const method = commands[name]!.method;
      const time = times[name];
      if (time && typeof time === 'object') this.limits.operating.record(method, time as ResponseTime);
      if (name in errors) {
        const e = errors[name];
        const fields = asRecord(e);
        out.errors[name] = bitrix24Error({
          code: typeof e === 'string' ? e : String(fields.error ?? 'ERROR_UNEXPECTED_ANSWER'),
          status: 400,
          description: typeof fields.error_description === 'string' ? fields.error_description : '',
          method,
        });
        failed = true;
      } else if (name in results) {
        out.result[name] = results[name];
        const total = toNumber(totals[name]);
        const next = toNumber(nexts[name]);
        if (total !== undefined) out.total[name] = total;
        if (next !== undefined) out.next[name] = next;
      } else {
        out.skipped.push(name);
        failed = true;
      }
    }
    return failed;
  }

  /**
   * Every item of a paged list method. The first page tells `total`; the remaining pages are
   * then fetched through batch (50 pages per request), a few requests at a time, in order.
   */
  async *list<T = unknown>(
    method: string,
    params: Params = {},
    options: ListOptions = {},
  ): AsyncGenerator<T> {
    const itemsOf = (result: unknown): T[] => {
      const items = options.itemsKey ? asRecord(result)[options.itemsKey] : result;
      if (Array.isArray(items)) return items as T[];
      if (items && typeof items === 'object') return Object.values(items) as T[];
      throw new UnexpectedResponseError({
        code: 'ERROR_UNEXPECTED_ANSWER',
        status: 200,
        description: 'list result is not an array',
        method,
      });
    };
    const first = await this.request(method, { ...params, start: 0 }, options);
    yield* itemsOf(first.result);
    if (first.next === undefined) return;

    if (first.total === undefined) {
      // No total: follow `next` one page at a time.
      let next: number | undefined = first.next;
      while (next !== undefined) {
        const page = await this.request(method, { ...params, start: next }, options);
        yield* itemsOf(page.result);
        next = page.next;
      }
      return;
    }

    const pageSize = first.next;
    const starts: number[] = [];
    for (let start = first.next; start < first.total; start += pageSize) starts.push(start);
    const groups: number[][] = [];
    for (let i = 0; i < starts.length; i += 50) groups.push(starts.slice(i, i + 50));
    const fetchGroup = async (group: number[]) => {
      const commands: BatchCommands = {};
      for (const start of group) commands[`p${start}`] = { method, params: { ...params, start } };
      const answer = await this.batch(commands, {
        halt: true,
        signal: options.signal,
        deadline: options.deadline,
      });
      const failure = Object.values(answer.errors)[0];
      if (failure) throw failure;
      return group.map((start) => {
        const key = `p${start}`;
        if (!(key in answer.result)) {
          throw new UnexpectedResponseError({
            code: 'ERROR_UNEXPECTED_ANSWER',
            status: 200,
            description: `batch answer lacks the page starting at ${start}`,
            method,
          });
        }
        return answer.result[key];
      });
    };
    const concurrency = Math.max(1, options.concurrency ?? 2);
    const inFlight: Promise<unknown[]>[] = [];
    let nextGroup = 0;
    while (nextGroup < groups.length || inFlight.length > 0) {
      while (inFlight.length < concurrency && nextGroup < groups.length) {
        const pending = fetchGroup(groups[nextGroup++]!);
        pending.catch(() => {}); // awaited below in order; avoid an unhandled rejection meanwhile
        inFlight.push(pending);
      }
      const pages = await inFlight.shift()!;
      for (const page of pages) yield* itemsOf(page);
    }
  }

  /**
   * One logical call: pacing, token renewal, and retries around sendRestRequest. Under a
   * deadline every wait must end before it: a wait that cannot is not started (pacing and
   * operating-time waits fail with DeadlineExceededError, a retry that cannot fit gives up with
   * the portal's last error) and a request still unanswered at the deadline is aborted.
   */
  private async send(
    method: string,
    params: Params,
    methodsForLimits: string[],
    read: boolean,
    options: CallOptions,
  ): Promise<RestAnswer> {
    const { bucket, operating } = this.limits;
    const deadline = options.deadline ?? currentDeadline();
    const signal =
      deadline && options.signal
        ? AbortSignal.any([options.signal, deadline.signal])
        : (deadline?.signal ?? options.signal);
    // Fail fast (reinstall needed, no token) before queueing; the token actually sent is read
    // again after the bucket wait, so a queued request never goes out with a stale one.
    // Token work is only stopped being waited for at the deadline, never cancelled.
    let token = await untilAborted(this.tokens.get(), signal);
    // Two renewals: the first may pick up a pair another process stored, which the portal can
    // reject too (it expired meanwhile); only the second then refreshes (issue #20.1).
    let renewals = 0;
    let failures = 0;
    let rateLimitHits = 0;
    const maxAttempts = read ? this.retry.readAttempts : this.retry.writeAttempts;
    for (;;) {
      await waitWithin(
        operating.admit(methodsForLimits),
        deadline,
        signal,
        `pacing ${method} (operating time)`,
      );
      const release = await bucket.acquire(signal, deadline);
      try {
        if (renewals === 0) token = await untilAborted(this.tokens.get(), signal);
        this.stats.requests += 1;
        const answer = await sendRestRequest(this.fetchImpl, {
          endpoint: this.endpoint,
          method,
          params,
          accessToken: token,
          timeoutMs: this.timeoutMs,
          signal,
        });
        release();
        operating.record(method, answer.time);
        return answer;
      } catch (error) {
        release();
        if (!isBitrix24Error(error)) throw error;
        if (isTokenRejected(error) && renewals < 2) {
          renewals += 1;
          this.stats.tokenRenewals += 1;
          token = await untilAborted(this.tokens.renew(token, error), signal);
          continue;
        }
        if (isQueryLimit(error)) {
          this.stats.rateLimited += 1;
          bucket.markFull();
          if (rateLimitHits < this.retry.rateLimitRetries) {
            const delay = backoffDelay(
              rateLimitHits++,
              this.retry.rateLimitBaseDelayMs,
              this.retry.rateLimitMaxDelayMs,
            );
            if (!this.fits(delay, deadline)) throw error;
            this.logger?.warn(
              { method, code: error.code, retryInMs: Math.round(delay) },
              'bitrix24 rate limit hit',
            );
            this.stats.retries += 1;
            await waitWithin(delay, deadline, signal, `retrying ${method}`);
            continue;
          }
        }
        if (error.code === 'OPERATION_TIME_LIMIT') {
          for (const m of methodsForLimits) operating.markBlocked(m);
        }
        if (isRetryableFailure(error) && ++failures < maxAttempts) {
          const delay = backoffDelay(failures - 1, this.retry.baseDelayMs, this.retry.maxDelayMs);
          if (!this.fits(delay, deadline)) throw error;
          this.logger?.debug(
            {
              method,
              code: error.code,
              status: error.status,
              description: redactSecrets(error.description),
              attempt: failures,
              retryInMs: Math.round(delay),
            },
            'bitrix24 call failed, retrying',
          );
          this.stats.retries += 1;
          await waitWithin(delay, deadline, signal, `retrying ${method}`);
          continue;
        }
        throw error;
      }
    }
  }

  /** Whether a retry after `delay` still leaves time for an answer before the deadline. */
  private fits(delay: number, deadline: Deadline | undefined): boolean {
    return !deadline || delay < deadline.remaining();
  }
}
