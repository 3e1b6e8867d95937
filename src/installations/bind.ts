// Makes the portal's bindings match what this deployment wants, in batch calls:
// every desired placement and event is unbound then bound again (so a changed title or a
// reinstall never duplicates anything), and recorded ones no longer wanted are unbound.
// Past 50 commands the work goes out in several batches, one after another, and an unbind
// always travels in the same batch as the bind it prepares: Bitrix24 runs one batch's
// commands in order, but says nothing of order between batches sent at once.
import { type BatchCommands, MAX_BATCH_COMMANDS } from '../bitrix24/batch-plan.js';
import { methods } from '../bitrix24/methods.js';
import type { BatchResult } from '../bitrix24/rest-client.js';
import type { DesiredBinding } from './manifest.js';
import type { BindingRecord } from './types.js';

export interface BatchCaller {
  batch(
    commands: BatchCommands,
    options?: { halt?: boolean },
  ): Promise<Pick<BatchResult, 'result' | 'errors'>>;
}

export interface BindFailure {
  binding: DesiredBinding;
  code: string;
  message: string;
}

export interface BindReport {
  bound: DesiredBinding[];
  unbound: Omit<BindingRecord, 'boundAt'>[];
  failed: BindFailure[];
  /** What the store should now record: everything bound, plus stale ones that could not be removed. */
  record: Omit<BindingRecord, 'boundAt'>[];
}

// Answers that mean "already in the state we want".
const ALREADY_BOUND = new Set([
  'PLACEMENT_EXIST',
  'ERROR_EVENT_HANDLER_ALREADY_BINDED',
  'ERROR_HANDLER_ALREADY_BINDED',
]);
const NOTHING_TO_UNBIND = new Set(['PLACEMENT_NO_EXIST', 'ERROR_HANDLER_NOT_FOUND', 'ERROR_EVENT_NOT_FOUND']);

/**
 * A duplicate event.bind: the docs give only the text ("Unable to set event handler: Handler
 * already binded", api-reference/events/event-bind.md), not a stable code, so the text decides.
 */
const alreadyBound = (error: { code: string; description: string }) =>
  ALREADY_BOUND.has(error.code) || /handler already binded/i.test(error.description);

const same = (
  a: { kind: string; code: string; handler: string },
  b: { kind: string; code: string; handler: string },
) => a.kind === b.kind && a.code.toUpperCase() === b.code.toUpperCase() && a.handler === b.handler;

function unbindCommand(b: { kind: string; code: string; handler: string }) {
  return b.kind === 'event'
    ? methods.event.unbind.command({ event: b.code, handler: b.handler })
    : methods.landing.repo.unbind.command({ code: b.code, handler: b.handler });
}

function bindCommand(b: DesiredBinding) {
  return b.kind === 'event'
    ? methods.event.bind.command({ event: b.code, handler: b.handler })
    : methods.landing.repo.bind.command({
        fields: { PLACEMENT: b.code, PLACEMENT_HANDLER: b.handler, TITLE: b.title ?? undefined },
      });
}

/** Whole groups into batches of at most 50 commands, in the groups' order. */
function packBatches(groups: BatchCommands[]): BatchCommands[] {
  const batches: BatchCommands[] = [];
  let current: BatchCommands = {};
  let size = 0;
  for (const group of groups) {
    const n = Object.keys(group).length;
    if (size > 0 && size + n > MAX_BATCH_COMMANDS) {
      batches.push(current);
      current = {};
      size = 0;
    }
    Object.assign(current, group);
    size += n;
  }
  if (size > 0) batches.push(current);
  return batches;
}

export async function syncBindings(
  client: BatchCaller,
  desired: DesiredBinding[],
  recorded: readonly Omit<BindingRecord, 'boundAt'>[],
): Promise<BindReport> {
  const stale = recorded.filter((r) => !desired.some((d) => same(d, r)));
  const groups: BatchCommands[] = [
    ...stale.map((b, i) => ({ [`stale_${i}`]: unbindCommand(b) })),
    ...desired.map((b, i) => ({ [`reset_${i}`]: unbindCommand(b), [`bind_${i}`]: bindCommand(b) })),
  ];
  const errors: Awaited<ReturnType<BatchCaller['batch']>>['errors'] = {};
  for (const part of packBatches(groups)) {
    Object.assign(errors, (await client.batch(part, { halt: false })).errors);
  }

  const report: BindReport = { bound: [], unbound: [], failed: [], record: [] };
  stale.forEach((b, i) => {
    const error = errors[`stale_${i}`];
    if (!error || NOTHING_TO_UNBIND.has(error.code)) report.unbound.push(b);
    else report.record.push(b); // still there: keep it recorded so the next sync retries
  });
  desired.forEach((b, i) => {
    const error = errors[`bind_${i}`];
    if (!error || alreadyBound(error)) {
      report.bound.push(b);
      report.record.push({ kind: b.kind, code: b.code, handler: b.handler, title: b.title });
    } else {
      report.failed.push({ binding: b, code: error.code, message: error.description || error.message });
    }
  });
  return report;
}
