// Splits named batch commands into batches of at most 50. A command may use an earlier one's
// result (`$result[name]`), which Bitrix24 resolves only inside one batch: commands linked
// by references stay together, and a linked group larger than one batch is refused.
import qs from 'qs';
import { ParameterError } from './errors.js';
import { isValidMethodName } from './rest-transport.js';

export const MAX_BATCH_COMMANDS = 50;

export interface BatchCommand {
  method: string;
  params?: Record<string, unknown>;
}

export type BatchCommands = Record<string, BatchCommand>;

/** `$result[name]`, `$result_total[name]`, `$result_next[name]` ... as Bitrix24 writes them. */
const REFERENCE = /\$result(?:_[a-z]+)?\[([^\]]+)\]/g;

function referencesIn(value: unknown, found: (name: string) => void): void {
  if (typeof value === 'string') {
    if (!value.includes('$result')) return;
    for (const match of value.matchAll(REFERENCE)) if (match[1] !== undefined) found(match[1]);
  } else if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      referencesIn(key, found);
      referencesIn(item, found);
    }
  }
}

/** The `cmd` entry Bitrix24 expects: `method?query` with PHP-style nested keys. */
export function encodeCommand(command: BatchCommand): string {
  const query = qs.stringify(command.params ?? {});
  return query ? `${command.method}?${query}` : command.method;
}

function checkMethod(name: string, method: string): void {
  if (!isValidMethodName(method)) {
    throw new ParameterError({
      code: 'INVALID_PARAMS',
      status: 0,
      description: `batch command ${JSON.stringify(name)} has an invalid method name`,
      method: 'batch',
    });
  }
  if (method.toLowerCase() === 'batch') {
    throw new ParameterError({
      code: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
      status: 0,
      description: 'batch cannot contain batch',
      method: 'batch',
    });
  }
}

/** Names in order, grouped into batches; each batch keeps the callers' order. */
export function planBatches(commands: BatchCommands, maxPerBatch = MAX_BATCH_COMMANDS): string[][] {
  const names = Object.keys(commands);
  const checked = new Set<string>(); // calls repeat a few methods many times
  const links: [number, string][] = [];
  names.forEach((name, i) => {
    const command = commands[name];
    const method = command?.method ?? '';
    if (!checked.has(method)) {
      checkMethod(name, method);
      checked.add(method);
    }
    referencesIn(command?.params, (ref) => links.push([i, ref]));
  });
  if (links.length === 0) {
    // Nothing links commands (the usual case): plain slices in the callers' order. Large
    // calls (tens of thousands of commands) wait for this before their first request.
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += maxPerBatch) batches.push(names.slice(i, i + maxPerBatch));
    return batches;
  }

  // Union-find over references between commands of this call.
  const index = new Map(names.map((name, i) => [name, i]));
  const parent = names.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    parent[i] = r;
    return r;
  };
  for (const [i, ref] of links) {
    const j = index.get(ref);
    if (j !== undefined) parent[root(i)] = root(j);
  }
  const groups = new Map<number, number[]>();
  names.forEach((_, i) => {
    const r = root(i);
    const group = groups.get(r);
    if (group) group.push(i);
    else groups.set(r, [i]);
  });

  // Next-fit in order of first appearance, so batches run in (nearly) the callers' order.
  const batches: number[][] = [];
  let current: number[] = [];
  for (const group of groups.values()) {
    if (group.length > maxPerBatch) {
      const sample = group.slice(0, 3).map((i) => names[i]);
      throw new ParameterError({
        code: 'BATCH_REFERENCE_SPLIT',
        status: 0,
        description: `${group.length} batch commands (${sample.join(', ')}, ...) reference each other through $result[...], more than fit in one batch of ${maxPerBatch}; split them so each linked group has at most ${maxPerBatch}`,
        method: 'batch',
      });
    }
    if (current.length + group.length > maxPerBatch) {
      batches.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) batches.push(current);
  return batches.map((batch) => batch.sort((a, b) => a - b).map((i) => names[i] as string));
}
