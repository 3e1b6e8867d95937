// The chaos harness (chaos/, `npm run chaos`) is a measurement, not part of the suite; these
// tests pin the pieces its figures rest on: how an answer is read, when the kill comes, the
// hostile requests reaching the app at all, and the summary line's exact form.
import { describe, expect, it } from 'vitest';
import type { CrashRound } from '../../chaos/crash.js';
import type { AppProcess } from '../../chaos/lib/app.js';
import type { ChaosEmulator } from '../../chaos/lib/emulator.js';
import { hostileRequest, type KnownPortal, ROUTES } from '../../chaos/lib/hostile-requests.js';
import { errorCode } from '../../chaos/lib/http.js';
import { killDuring, planKill } from '../../chaos/lib/killer.js';
import { seededRng } from '../../chaos/lib/rng.js';
import { summaryLine, totals } from '../../chaos/report.js';

describe('errorCode', () => {
  it('reads our code from a JSON error, an error page and an admin flash', () => {
    expect(errorCode('{"error":"database_unavailable","message":"x"}')).toBe('database_unavailable');
    expect(
      errorCode('<section><p class="card__meta">Code: <code>install_not_verified</code></p></section>'),
    ).toBe('install_not_verified');
    expect(errorCode('<div class="flash" data-flash="error" data-code="needs_reinstall">x</div>')).toBe(
      'needs_reinstall',
    );
    expect(errorCode('<p>fine</p>')).toBeNull();
  });
});

function fakes(batchUpstream: number[]) {
  let upstream = 0;
  let killed = false;
  const emulator = {
    call: {
      upstream: async () => {
        // The app makes its next request each time the harness looks, until it is killed.
        if (!killed && batchUpstream.length) upstream += batchUpstream.shift()!;
        return upstream;
      },
    },
  } as unknown as ChaosEmulator;
  const app = {
    kill9: async () => {
      killed = true;
    },
  } as unknown as AppProcess;
  return { emulator, app, killed: () => killed };
}

describe('killDuring', () => {
  it('kills once the app has made the drawn number of upstream requests', async () => {
    const f = fakes([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const batch = new Promise(() => {});
    const record = await killDuring(
      f.emulator,
      f.app,
      { afterUpstream: 4, expected: 10, jitterMs: 0 },
      0,
      0,
      batch,
    );
    expect(f.killed()).toBe(true);
    expect(record.afterBatch).toBe(false);
    expect(record.atUpstream).toBe(4);
  });

  it('kills at the end of a batch that finishes before the trigger, and says so', async () => {
    const f = fakes([]);
    const record = await killDuring(
      f.emulator,
      f.app,
      { afterUpstream: 50, expected: 60, jitterMs: 0 },
      0,
      0,
      Promise.resolve(),
    );
    expect(f.killed()).toBe(true);
    expect(record.afterBatch).toBe(true);
  });

  it('draws the trigger within the batch, repeatably by seed', () => {
    const rng = seededRng(7);
    const a = Array.from({ length: 200 }, () => planKill(rng, 60));
    for (const plan of a) expect(plan.afterUpstream).toBeGreaterThanOrEqual(1);
    for (const plan of a) expect(plan.afterUpstream).toBeLessThanOrEqual(60);
    expect(planKill(seededRng(42), 60)).toEqual(planKill(seededRng(42), 60));
  });
});

describe('hostile requests', () => {
  const known: KnownPortal[] = [{ memberId: 'm1', domain: '127.0.0.1:4001', ctx: 'abcdefABCDEF.xyz' }];

  it('always reach the app: the request line stays under Node’s 16 KB header limit', () => {
    const rng = seededRng(1);
    for (const route of ROUTES) {
      for (let i = 0; i < 150; i++) {
        const r = hostileRequest(route, rng, known);
        expect(r.path.length, route).toBeLessThan(16_000);
        expect(r.path.startsWith(route.split(' ')[1]!), route).toBe(true);
      }
    }
  });

  it('carry the 20,000-character DOMAIN in the body', () => {
    const rng = seededRng(2);
    const bodies = Array.from({ length: 400 }, () => hostileRequest('POST /install', rng, known).body ?? '');
    expect(bodies.some((b) => /DOMAIN=[a-z0-9]{20000}/i.test(b))).toBe(true);
  });

  it('forge unique portal ids, so bounded caches and limiters are really filled', () => {
    const rng = seededRng(3);
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const body = hostileRequest('POST /placements/settings', rng, known).body ?? '';
      const id = new URLSearchParams(body).get('member_id');
      if (id && id !== 'm1' && /^[0-9a-f]{32}$/.test(id)) ids.add(id);
    }
    expect(ids.size).toBeGreaterThan(200);
  });
});

describe('summary line', () => {
  const round = (lost: number, needs: number, still: number, waitMs: number) =>
    ({
      installs: { total: 20, lost: Array.from({ length: lost }, () => ({ memberId: 'x', why: '' })) },
      storm: {
        exposed: 40,
        needsReinstall: Array.from({ length: needs }, () => ({ memberId: 'y', why: '' })),
        stillLost: Array.from({ length: still }, () => ({ memberId: 'y', why: '' })),
        longestWaitMs: waitMs,
      },
    }) as unknown as CrashRound;

  it('is exactly the form the issue asks for, summed over rounds and databases', () => {
    const t = totals({ crash: [round(1, 2, 0, 3_400), round(0, 1, 1, 19_250)], outage: [], hostile: null });
    expect(summaryLine(t)).toBe('chaos lost-installs 1/40 lost-portals-after-visit 1/80 longest-wait-s 19.3');
  });
});
