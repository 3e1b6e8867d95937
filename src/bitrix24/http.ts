// The narrow HTTP call the app makes to Bitrix24 (REST and OAuth): exactly the parts of
// fetch that the callers use. The production implementation (plugins/outbound.ts) sends it
// through undici's Dispatcher API, without the WHATWG fetch layer; the global `fetch`, and a
// test's fake answering a `Response`, fit this type as they are.

export interface HttpRequestInit {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** What a caller reads of an answer (a `Response` is one). */
export interface HttpAnswer {
  readonly status: number;
  /** status 200–299 */
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** Rejects on a transport failure and, with the signal's reason, when the signal aborts. */
export type HttpFetch = (url: string, init: HttpRequestInit) => Promise<HttpAnswer>;

export interface RequestTimeout {
  /** Aborts after the timeout (reason: a TimeoutError) or when the caller's signal aborts (its reason). */
  readonly signal: AbortSignal;
  /** Whether the timeout (not the caller) aborted the signal. */
  timedOut(): boolean;
  /** Clears the timer and the listener on the caller's signal; call once the request is done. */
  dispose(): void;
}

/**
 * A per-request timeout joined with an optional caller's signal. Cheaper than
 * `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: one timer, cleared as soon as the
 * request ends (AbortSignal.timeout's lives until it fires), and no dependent-signal
 * bookkeeping; one listener on the caller's signal, removed again.
 */
export function requestTimeout(ms: number, caller?: AbortSignal): RequestTimeout {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  // Like AbortSignal.timeout: a pending request, not this timer, keeps the process alive.
  timer.unref?.();
  const onAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}
