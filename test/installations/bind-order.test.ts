// #14 item 5: more than 50 bind commands go out as several batches, one after another, and each
// unbind travels with the bind it prepares, so no bind_i can run before its reset_i.

import { frozenEmulator } from 'bitrix24-emulator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticAccessToken } from '../../src/bitrix24/access-token.js';
import type { BatchCommands } from '../../src/bitrix24/batch-plan.js';
import { PortalLimitsRegistry } from '../../src/bitrix24/portal-limits.js';
import { RestClient } from '../../src/bitrix24/rest-client.js';
import { type BatchCaller, syncBindings } from '../../src/installations/bind.js';
import { desiredBindings } from '../../src/placements/registry.js';

const PUBLIC_URL = 'http://127.0.0.1:3000';
const CODES = Array.from({ length: 60 }, (_, i) => `custom.block_${i}`);

let env: Awaited<ReturnType<typeof frozenEmulator>>;
let client: RestClient;

beforeAll(async () => {
  env = await frozenEmulator({ appUrl: PUBLIC_URL });
  client = new RestClient({
    endpoint: env.portal.clientEndpoint,
    memberId: env.portal.memberId,
    tokens: new StaticAccessToken(env.admin.access_token),
    limits: new PortalLimitsRegistry().forPortal(env.portal.memberId),
    allowHttp: true,
  });
});
afterAll(() => env.emulator.close());

interface Call {
  names: string[];
  errors: Record<string, string>;
}

/** The real client, watched: what each batch call carried, what failed, and whether calls overlapped. */
function watched() {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const caller: BatchCaller = {
    async batch(commands: BatchCommands, options) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const out = await client.batch(commands, options);
        calls.push({
          names: Object.keys(commands),
          errors: Object.fromEntries(Object.entries(out.errors).map(([k, e]) => [k, e.code])),
        });
        return out;
      } finally {
        inFlight--;
      }
    },
  };
  return { caller, calls, maxInFlight: () => maxInFlight };
}

describe('syncBindings with 60 block codes', () => {
  const desired = desiredBindings(PUBLIC_URL, CODES, 'en');
  // One stale record makes the command count odd, so a plain 50-split would cut a pair apart.
  const stale = {
    kind: 'placement' as const,
    code: 'LANDING_BLOCK_OLD.ONE',
    handler: `${PUBLIC_URL}/old`,
    title: 'x',
  };

  it('sends batches of at most 50, one at a time, each reset with its bind, and binds everything', async () => {
    expect(desired.length).toBe(63);
    const w = watched();
    const report = await syncBindings(w.caller, desired, [stale]);

    expect(w.calls.length).toBe(3);
    for (const call of w.calls) expect(call.names.length).toBeLessThanOrEqual(50);
    expect(w.maxInFlight()).toBe(1);
    desired.forEach((_, i) => {
      const call = w.calls.find((c) => c.names.includes(`bind_${i}`));
      expect(call?.names).toContain(`reset_${i}`);
      expect(call!.names.indexOf(`reset_${i}`)).toBeLessThan(call!.names.indexOf(`bind_${i}`));
    });
    const errorCodes = w.calls.flatMap((c) => Object.values(c.errors));
    expect(errorCodes).not.toContain('PLACEMENT_EXIST');

    expect(report.failed).toEqual([]);
    expect(report.bound).toHaveLength(63);
    const app = env.emulator.inspect().apps[0]!;
    const bound = app.placements.map((p) => `${p.placement} ${p.handler}`).sort();
    const wanted = desired
      .filter((d) => d.kind === 'placement')
      .map((d) => `${d.code.toUpperCase()} ${d.handler}`)
      .sort();
    expect(bound).toEqual(wanted);
    expect(app.events.map((e) => e.event)).toEqual(['ONAPPUNINSTALL']);
  });

  it('a second sync (reinstall) leaves exactly the same bindings, no duplicates, no errors', async () => {
    const w = watched();
    const first = env.emulator.inspect().apps[0]!.placements.length;
    const report = await syncBindings(
      w.caller,
      desired,
      desired.map(({ kind, code, handler, title }) => ({ kind, code, handler, title })),
    );
    expect(report.failed).toEqual([]);
    expect(w.calls.every((c) => !Object.keys(c.errors).some((k) => k.startsWith('bind_')))).toBe(true);
    const app = env.emulator.inspect().apps[0]!;
    expect(app.placements).toHaveLength(first);
    expect(new Set(app.placements.map((p) => p.placement)).size).toBe(first);
    expect(app.events).toHaveLength(1);
  });
});
