// A check of a real portal against what this app expects of it, through the portal's incoming
// webhook (https://portal/rest/<user>/<code>/, b24restdocs local-integrations/local-webhooks.md).
// Every REST method the app depends on is called with the app's own typed definition, so an
// answer of another shape fails exactly as it would inside the app. Read-only by default;
// `write` creates a throwaway site to try the special-page and trash methods, and deletes it.
import { z } from 'zod';
import * as appMethods from '../bitrix24/app-methods.js';
import type { MethodCaller, MethodDefinition } from '../bitrix24/define-method.js';
import { defineMethod } from '../bitrix24/define-method.js';
import { bitrix24Error, isBitrix24Error, TransientError } from '../bitrix24/errors.js';
import type { HttpFetch } from '../bitrix24/http.js';
import * as landing from '../bitrix24/landing-methods.js';
import { b24Int, idParam } from '../bitrix24/schemas.js';

export type ProbeOutcome = 'ok' | 'differs' | 'failed' | 'skipped';

export interface ProbeCheck {
  /** The REST method, or a short name of the step. */
  step: string;
  outcome: ProbeOutcome;
  /** What the app expected and what the portal answered, when they differ. */
  detail: string;
}

export interface ProbeOptions {
  write?: boolean;
  fetch?: HttpFetch;
  timeoutMs?: number;
}

/** Methods the write probe needs that the app itself never calls (create and remove a site). */
const siteAdd = defineMethod(
  'landing.site.add',
  z.object({ fields: z.object({ TITLE: z.string(), CODE: z.string(), TYPE: z.string() }) }),
  b24Int,
);
const landingAdd = defineMethod(
  'landing.landing.add',
  z.object({ fields: z.object({ TITLE: z.string(), CODE: z.string(), SITE_ID: idParam }) }),
  b24Int,
);
// landing.site.delete removes only an empty site (b24restdocs api-reference/landing/site/landing-site-delete.md).
const landingDelete = defineMethod('landing.landing.delete', z.object({ lid: idParam }), z.boolean());
const siteDelete = defineMethod('landing.site.delete', z.object({ id: idParam }), z.boolean());

/** Calls a webhook: POST JSON to `<webhook><method>.json`; Bitrix24's error envelope becomes a typed error. */
export function webhookCaller(webhook: string, options: ProbeOptions = {}): MethodCaller {
  const base = webhook.endsWith('/') ? webhook : `${webhook}/`;
  return {
    async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      let status: number;
      let text: string;
      try {
        const res = await (options.fetch ?? fetch)(`${base}${method}.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(params),
          signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
        });
        status = res.status;
        text = await res.text();
      } catch {
        // Never echo the webhook URL: its path is a credential.
        throw new TransientError({
          code: 'NETWORK_ERROR',
          status: 0,
          description: 'portal unreachable',
          method,
        });
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new TransientError({
          code: 'ERROR_UNEXPECTED_ANSWER',
          status,
          description: `answer is not JSON (HTTP ${status})`,
          method,
        });
      }
      if (typeof body.error === 'string') {
        throw bitrix24Error({
          code: body.error,
          status,
          description: typeof body.error_description === 'string' ? body.error_description : '',
          method,
        });
      }
      return body.result as T;
    },
  };
}

type Call = <P extends z.ZodType, R extends z.ZodType>(
  definition: MethodDefinition<P, R>,
  params: z.input<P>,
) => Promise<z.output<R> | undefined>;

/** Runs the probe; never throws for what the portal answers (each answer is a check). */
export async function probePortal(webhook: string, options: ProbeOptions = {}): Promise<ProbeCheck[]> {
  const caller = webhookCaller(webhook, options);
  const checks: ProbeCheck[] = [];
  const record = (step: string, outcome: ProbeOutcome, detail = '') => checks.push({ step, outcome, detail });

  const call: Call = async (definition, params) => {
    try {
      const value = await definition.bind(caller)(params as never);
      record(definition.name, 'ok');
      return value;
    } catch (error) {
      if (!isBitrix24Error(error)) throw error;
      const outcome = error.kind === 'unexpected' || error.kind === 'parameter' ? 'differs' : 'failed';
      record(definition.name, outcome, `${error.code}: ${error.description}`);
      return undefined;
    }
  };
  const expect = (step: string, ok: boolean, detail: string) =>
    record(step, ok ? 'ok' : 'differs', ok ? '' : detail);

  await call(appMethods.userAdmin, undefined);
  await call(appMethods.userCurrent, undefined);
  const sites = await call(landing.siteGetList, {
    params: { select: ['ID', 'TITLE', 'CODE', 'TYPE', 'DELETED'], filter: { DELETED: ['Y', 'N'] } },
  });
  const first = sites?.[0];
  if (first) {
    await call(landing.syspageGet, { id: first.ID });
    const pages = await call(landing.landingGetList, {
      params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { SITE_ID: first.ID } },
    });
    const page = pages?.[0];
    if (page) await call(landing.blockGetList, { lid: page.ID });
    else record(landing.blockGetList.name, 'skipped', 'the first site has no page');
  } else {
    for (const m of [landing.syspageGet, landing.landingGetList, landing.blockGetList]) {
      record(m.name, 'skipped', 'the portal lists no site');
    }
  }
  // Methods that answer only in an application's context (OAuth tokens of an installed app):
  // a webhook cannot try them; the app's install and pages will.
  for (const name of [
    'app.info',
    'app.option.get',
    'app.option.set',
    'landing.repo.bind',
    'placement.get',
    'event.bind',
  ]) {
    record(name, 'skipped', 'needs an application context (not a webhook)');
  }
  if (options.write) await probeWrites(call, expect, record);
  return checks;
}

/** Creates a site and a page, tries syspage set/get/clear and markDelete/markUnDelete, then deletes it. */
async function probeWrites(
  call: Call,
  expect: (step: string, ok: boolean, detail: string) => void,
  record: (step: string, outcome: ProbeOutcome, detail?: string) => void,
): Promise<void> {
  const code = `probe-${Date.now().toString(36)}`;
  const siteId = await call(siteAdd, {
    fields: { TITLE: 'b24-sites probe (delete me)', CODE: code, TYPE: 'STORE' },
  });
  if (siteId === undefined) {
    record('write probe', 'skipped', 'could not create the throwaway site');
    return;
  }
  let pageId: number | undefined;
  try {
    pageId = await call(landingAdd, { fields: { TITLE: 'Probe page', CODE: `${code}-p`, SITE_ID: siteId } });
    if (pageId !== undefined) {
      await call(landing.syspageSet, { id: siteId, type: 'catalog', lid: pageId });
      const set = await call(landing.syspageGet, { id: siteId });
      expect(
        'syspage set → get',
        set?.catalog?.LANDING_ID === pageId,
        `catalog should be page ${pageId}, got ${JSON.stringify(set?.catalog ?? null)}`,
      );
      await call(landing.syspageGetSpecialPage, { siteId, type: 'catalog' });
      // `lid` left out clears the binding (seed: landing.syspage.set).
      await call(landing.syspageSet, { id: siteId, type: 'catalog' });
      const cleared = await call(landing.syspageGet, { id: siteId });
      expect(
        'syspage clear → get',
        cleared !== undefined && !cleared?.catalog,
        `catalog should be gone, got ${JSON.stringify(cleared?.catalog ?? null)}`,
      );
    }
    const marked = await call(landing.siteMarkDelete, { id: siteId });
    expect(
      'markDelete answer',
      marked === siteId,
      `should answer the site id ${siteId}, got ${String(marked)}`,
    );
    await call(landing.siteMarkUnDelete, { id: siteId });
  } finally {
    if (pageId !== undefined) await call(landingDelete, { lid: pageId });
    await call(siteDelete, { id: siteId });
  }
}

/** One line per check, then a summary line; exit code 0 only when nothing differs or failed. */
export function formatProbe(checks: ProbeCheck[]): { lines: string[]; ok: boolean } {
  const width = Math.max(...checks.map((c) => c.step.length));
  const lines = checks.map(
    (c) => `${c.outcome.padEnd(8)} ${c.step.padEnd(width)}${c.detail ? `  ${c.detail}` : ''}`,
  );
  const count = (o: ProbeOutcome) => checks.filter((c) => c.outcome === o).length;
  lines.push(
    `probe: ${count('ok')} ok, ${count('differs')} differ, ${count('failed')} failed, ${count('skipped')} skipped`,
  );
  return { lines, ok: count('differs') === 0 && count('failed') === 0 };
}
