/**
 * An error meant for the caller: its status, a stable machine-readable code, and a sentence
 * a person understands. Anything else that reaches the error handler is answered as a
 * generic 500 without details.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, details);
