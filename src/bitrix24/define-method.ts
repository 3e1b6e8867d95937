// A typed REST method: parameters checked before sending, the answer checked on arrival.
import { z } from 'zod';
import { ParameterError, UnexpectedResponseError } from './errors.js';
import type { CallOptions } from './rest-client.js';

export interface MethodCaller {
  call<T = unknown>(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T>;
}

/** Parameters may be left out when the method takes none (or only optional ones). */
export type TypedMethod<P extends z.ZodType, R extends z.ZodType> =
  undefined extends z.input<P>
    ? (params?: z.input<P>, options?: CallOptions) => Promise<z.output<R>>
    : (params: z.input<P>, options?: CallOptions) => Promise<z.output<R>>;

export interface MethodDefinition<P extends z.ZodType, R extends z.ZodType> {
  name: string;
  params: P;
  result: R;
  bind(caller: MethodCaller): TypedMethod<P, R>;
}

export function defineMethod<P extends z.ZodType, R extends z.ZodType>(
  name: string,
  params: P,
  result: R,
): MethodDefinition<P, R> {
  return {
    name,
    params,
    result,
    bind: (caller) => {
      const method = async (input?: z.input<P>, options?: CallOptions): Promise<z.output<R>> => {
        const checked = params.safeParse(input);
        if (!checked.success) {
          throw new ParameterError({
            code: 'INVALID_PARAMS',
            status: 0,
            description: z.prettifyError(checked.error),
            method: name,
          });
        }
        const raw = await caller.call(name, (checked.data ?? {}) as Record<string, unknown>, options);
        const parsed = result.safeParse(raw);
        if (!parsed.success) {
          throw new UnexpectedResponseError({
            code: 'ERROR_UNEXPECTED_ANSWER',
            status: 200,
            description: `result does not match the documented shape: ${z.prettifyError(parsed.error)}`,
            method: name,
          });
        }
        return parsed.data;
      };
      return method as TypedMethod<P, R>;
    },
  };
}

/** For methods without parameters. */
export const noParams = z.object({}).strict().optional();
