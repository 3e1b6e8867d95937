// `cli probe` against a portal's incoming webhook: here the emulator's, which serves the same
// REST methods; a portal answering in another shape is reported, not crashed on.

import { type EmulatorHandle, startEmulator } from 'bitrix24-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProbe, probePortal } from '../../src/admin/probe.js';
import { cliWithEnv } from './helpers.js';

let emulator: EmulatorHandle;
let webhook: string;
beforeAll(async () => {
  emulator = await startEmulator({ appUrl: 'http://127.0.0.1:9' });
  webhook = emulator.addWebhook(undefined, emulator.portal().adminUserId);
});
afterAll(async () => emulator?.close());

describe('probe', () => {
  it('runs every read-only call the app depends on and finds nothing that differs', async () => {
    const before = emulator.inspect();
    const checks = await probePortal(webhook);
    const byStep = Object.fromEntries(checks.map((c) => [c.step, c.outcome]));
    expect(byStep).toMatchObject({
      'user.admin': 'ok',
      'user.current': 'ok',
      'landing.site.getList': 'ok',
      'landing.syspage.get': 'ok',
      'landing.landing.getList': 'ok',
      'landing.block.getList': 'ok',
      'app.info': 'skipped',
    });
    expect(formatProbe(checks).ok).toBe(true);
    // Read-only: the portal is exactly as before.
    expect(emulator.inspect().sites).toEqual(before.sites);
  });

  it('with write: sets and clears a special page, trashes and restores a throwaway site, then deletes it', async () => {
    const sitesBefore = emulator.inspect().sites.length;
    const checks = await probePortal(webhook, { write: true });
    const failures = checks.filter((c) => c.outcome === 'differs' || c.outcome === 'failed');
    expect(failures).toEqual([]);
    for (const step of [
      'syspage set → get',
      'syspage clear → get',
      'markDelete answer',
      'landing.site.delete',
    ]) {
      expect(checks.find((c) => c.step === step)?.outcome, step).toBe('ok');
    }
    expect(emulator.inspect().sites).toHaveLength(sitesBefore);
  });

  it('reports an answer of another shape as differing, with what was expected', async () => {
    const checks = await probePortal(webhook, {
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        if (!String(url).endsWith('user.admin.json')) return res;
        return new Response(JSON.stringify({ result: 'Y' }), { status: 200 });
      },
    });
    const admin = checks.find((c) => c.step === 'user.admin');
    expect(admin?.outcome).toBe('differs');
    expect(admin?.detail).toContain('ERROR_UNEXPECTED_ANSWER');
    const { lines, ok } = formatProbe(checks);
    expect(ok).toBe(false);
    expect(lines.at(-1)).toMatch(/^probe: \d+ ok, 1 differ, 0 failed, \d+ skipped$/);
  });

  it('never prints the webhook (a credential) when the portal is unreachable', async () => {
    const checks = await probePortal('http://127.0.0.1:9/rest/1/secretcode123/');
    expect(checks.every((c) => c.outcome !== 'ok')).toBe(true);
    expect(formatProbe(checks).lines.join('\n')).not.toContain('secretcode123');
  });
});

describe('npm run cli -- probe', () => {
  it('prints one line per check and exits 0 against a portal that answers as expected', async () => {
    const run = await cliWithEnv(['probe', '--webhook', webhook], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok\s+user\.admin/m);
    expect(run.stdout).toMatch(/^probe: \d+ ok, 0 differ, 0 failed, \d+ skipped$/m);
  });

  it('refuses anything but a webhook URL, without echoing it', async () => {
    const run = await cliWithEnv(['probe', '--webhook', 'https://portal.example.com/secret-thing'], {});
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--webhook must be an incoming webhook URL');
    expect(run.stderr).not.toContain('secret-thing');
  });
});
