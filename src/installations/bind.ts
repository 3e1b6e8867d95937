// Makes the portal's bindings match what this deployment wants, in one batch call:
// every desired placement and event is unbound then bound again (so a changed title or a
// reinstall never duplicates anything), and recorded ones no longer wanted are unbound.
import type { BatchCommands } from '../bitrix24/batch-plan.js';
import type { BatchResult } from '../bitrix24/rest-client.js';
import type { DesiredBinding } from '../placements/registry.js';
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

const same = (
  a: { kind: string; code: string; handler: string },
  b: { kind: string; code: string; handler: string },
) => a.kind === b.kind && a.code.toUpperCase() === b.code.toUpperCase() && a.handler === b.handler;

function unbindCommand(b: { kind: string; code: string; handler: string }) {
  return b.kind === 'event'
    ? { method: 'event.unbind', params: { event: b.code, handler: b.handler } }
    : { method: 'landing.repo.unbind', params: { code: b.code, handler: b.handler } };
}

function bindCommand(b: DesiredBinding) {
  return b.kind === 'event'
    ? { method: 'event.bind', params: { event: b.code, handler: b.handler } }
    : {
        method: 'landing.repo.bind',
        params: { fields: { PLACEMENT: b.code, PLACEMENT_HANDLER: b.handler, TITLE: b.title } },
      };
}

export async function syncBindings(
  client: BatchCaller,
  desired: DesiredBinding[],
  recorded: Omit<BindingRecord, 'boundAt'>[],
): Promise<BindReport> {
  const stale = recorded.filter((r) => !desired.some((d) => same(d, r)));
  const commands: BatchCommands = {};
  stale.forEach((b, i) => {
    commands[`stale_${i}`] = unbindCommand(b);
  });
  desired.forEach((b, i) => {
    commands[`reset_${i}`] = unbindCommand(b);
    commands[`bind_${i}`] = bindCommand(b);
  });
  const { errors } = await client.batch(commands, { halt: false });

  const report: BindReport = { bound: [], unbound: [], failed: [], record: [] };
  stale.forEach((b, i) => {
    const error = errors[`stale_${i}`];
    if (!error || NOTHING_TO_UNBIND.has(error.code)) report.unbound.push(b);
    else report.record.push(b); // still there: keep it recorded so the next sync retries
  });
  desired.forEach((b, i) => {
    const error = errors[`bind_${i}`];
    if (!error || ALREADY_BOUND.has(error.code)) {
      report.bound.push(b);
      report.record.push({ kind: b.kind, code: b.code, handler: b.handler, title: b.title });
    } else {
      report.failed.push({ binding: b, code: error.code, message: error.description || error.message });
    }
  });
  return report;
}
