// A typed REST method: parameters checked before sending, the answer checked on arrival. One
// definition serves a single call (bind) and a batch command (command, read) alike.
import { z } from 'zod';
import type { BatchCommand } from './batch-plan.js';
import { ParameterError, UnexpectedResponseError } from './errors.js';
import type { CallOptions } from './rest-client.js';

export interface MethodCaller {
  call<T = unknown>(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<T>;
}

/** Parameters may be left out when the method takes none (or only optional ones). */
type TypedMethod<P extends z.ZodType, R extends z.ZodType> =
  undefined extends z.input<P>
    ? (params?: z.input<P>, options?: CallOptions) => Promise<z.output<R>>
    : (params: z.input<P>, options?: CallOptions) => Promise<z.output<R>>;

/** A batch command with its parameters already checked. */
type MethodCommand = Required<BatchCommand>;

type CommandBuilder<P extends z.ZodType> =
  undefined extends z.input<P>
    ? (params?: z.input<P>) => MethodCommand
    : (params: z.input<P>) => MethodCommand;

export interface MethodDefinition<P extends z.ZodType, R extends z.ZodType> {
  name: string;
  params: P;
  result: R;
  bind(caller: MethodCaller): TypedMethod<P, R>;
  /**
   * The call as a batch command, its parameters checked (and converted) as a single call's are:
   * ParameterError before anything is sent. A `$result[...]` reference to an earlier command
   * passes only where the schema takes any value (list filters do); a typed id refuses it.
   */
  command: CommandBuilder<P>;
  /**
   * A batch command's answer checked as a single call's is; undefined when it does not match
   * (batch callers treat such an answer as missing rather than failing the whole page).
   */
  read(answer: unknown): z.output<R> | undefined;
}

const definitions = new WeakSet<object>();

/** Whether a value is a definition made by defineMethod (method trees hold nothing else as leaves). */
export function isMethodDefinition(value: unknown): value is MethodDefinition<z.ZodType, z.ZodType> {
  return typeof value === 'object' && value !== null && definitions.has(value);
}

export function defineMethod<P extends z.ZodType, R extends z.ZodType>(
  name: string,
  params: P,
  result: R,
): MethodDefinition<P, R> {
  const checked = (input: unknown): Record<string, unknown> => {
    const parsed = params.safeParse(input);
    if (!parsed.success) {
      throw new ParameterError({
        code: 'INVALID_PARAMS',
        status: 0,
        description: z.prettifyError(parsed.error),
        method: name,
      });
    }
    return (parsed.data ?? {}) as Record<string, unknown>;
  };
  const definition: MethodDefinition<P, R> = {
    name,
    params,
    result,
    bind: (caller) => {
      const method = async (input?: z.input<P>, options?: CallOptions): Promise<z.output<R>> => {
        const raw = await caller.call(name, checked(input), options);
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
    command: ((input?: z.input<P>) => ({ method: name, params: checked(input) })) as CommandBuilder<P>,
    read: (answer) => {
      const parsed = result.safeParse(answer);
      return parsed.success ? parsed.data : undefined;
    },
  };
  definitions.add(definition);
  return definition;
}

/** For methods without parameters. */
export const noParams = z.object({}).strict().optional();
