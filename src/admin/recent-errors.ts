// The last few request errors, in memory, for the admin page. Only codes and sentences meant
// for callers are kept: never descriptions that may echo request parameters.
import { isBitrix24Error } from '../bitrix24/errors.js';
import { AppError } from '../errors.js';

export interface RecentError {
  at: Date;
  method: string;
  route: string;
  code: string;
  message: string;
}

/** A request error as the admin page shows it. */
export function describeRequestError(method: string, route: string, error: unknown): RecentError {
  const at = new Date();
  if (error instanceof AppError) return { at, method, route, code: error.code, message: error.message };
  if (isBitrix24Error(error)) {
    return {
      at,
      method,
      route,
      code: error.code,
      message: `Bitrix24 ${error.kind} error on ${error.method}`,
    };
  }
  const name = error instanceof Error ? error.name : 'Error';
  const code = (error as { code?: unknown } | null)?.code;
  return { at, method, route, code: typeof code === 'string' ? code : name, message: name };
}

export class RecentErrors {
  private readonly entries: RecentError[] = [];

  constructor(private readonly capacity = 50) {}

  add(entry: RecentError): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  list(): RecentError[] {
    return [...this.entries].reverse();
  }
}
