// A new widget is one module, one template and its locale keys (docs/adding-a-widget.md): a
// module registered in a test app alone is bound by the install, opened by the portal's POST
// and runs its action, with no change anywhere else.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VIEWS_DIR } from '../../src/paths.js';
import { numericId, type PlacementModule } from '../../src/placements/module.js';
import { PLACEMENT_MODULES } from '../../src/placements/registry.js';
import { resubmit, type Stack, startStack } from '../helpers/stack.js';

const MEMBER = 'feed0001';
/** A made-up Sites placement code: the emulator binds any LANDING_* code, as Bitrix24 does. */
const CODE = 'LANDING_NOTES';

const notesOptions = z.object({ SITE_ID: numericId });

/** Shows the app's code (app.info with the user's token) and saves a note as an app option. */
const notesPlacement: PlacementModule<z.output<typeof notesOptions>, { siteId: string; app: string }> = {
  name: 'notes',
  handlerPath: '/placements/notes',
  titleKey: 'placement.notes.title',
  codes: () => [CODE],
  serves: (placement) => placement.trim().toUpperCase() === CODE,
  options: notesOptions,
  viewKey: (options) => options.SITE_ID,
  load: async (widget) => ({
    siteId: widget.options.SITE_ID,
    app: (await widget.client.app.info(undefined)).CODE ?? '',
  }),
  act: async (widget, view, form, services) => {
    await services.options.setOptions(widget.installation.id, {
      note: `${view.siteId}:${String(form.note)}`,
    });
    return { kind: 'ok', text: 'note saved' };
  },
};

const TEMPLATE = `<% layout('./widget-layout') %>
<p id="notes">site <%= it.view.siteId %> of <%= it.view.app %></p>
<%~ include('./partials/flash', { flash: it.flash }) %>
<form method="post" action="<%= it.action %>">
  <input type="hidden" name="ctx" value="<%= it.token %>">
  <input name="note" value="hello"><button name="action" value="save">save</button>
</form>`;

let stack: Stack;
let viewsRoot: string;
beforeAll(async () => {
  viewsRoot = mkdtempSync(join(tmpdir(), 'views-'));
  cpSync(VIEWS_DIR, viewsRoot, { recursive: true });
  writeFileSync(join(viewsRoot, 'notes.eta'), TEMPLATE);
  stack = await startStack({
    emulator: { portals: [{ memberId: MEMBER }] },
    app: { placements: [...PLACEMENT_MODULES, notesPlacement], viewsRoot },
  });
});
afterAll(async () => {
  await stack?.close();
  rmSync(viewsRoot, { recursive: true, force: true });
});

describe('a widget added as one module', () => {
  it('is bound by the install, beside the others', async () => {
    expect((await stack.emulator.installApp(MEMBER)).status).toBe(200);
    stack.emulator.finishInstall(MEMBER);
    const bound = stack.emulator.inspect(MEMBER).apps[0]!.placements.map((p) => [p.placement, p.handler]);
    expect(bound).toContainEqual([CODE, `${stack.appUrl}/placements/notes`]);
    expect(bound.map(([code]) => code)).toEqual(['LANDING_SETTINGS', 'LANDING_BLOCK_*', CODE]);
  });

  it("opens from the portal's POST and runs its action", async () => {
    const site = stack.emulator.inspect(MEMBER).sites[0]!;
    const opened = await stack.emulator.openPlacement(MEMBER, {
      placement: CODE,
      options: { SITE_ID: site.id },
    });
    expect(opened.status).toBe(200);
    expect(opened.body).toContain(`site ${site.id} of ${stack.emulator.apps[0]!.clientId}`);

    const token = /name="ctx" value="([^"]+)"/.exec(opened.body)![1]!;
    const acted = await resubmit({
      action: `${stack.appUrl}/placements/notes/action`,
      body: [
        ['ctx', token],
        ['action', 'save'],
        ['note', 'hello'],
      ],
    });
    expect(acted.status).toBe(200);
    expect(acted.body).toContain('note saved');
    const installation = (await stack.app.installations.find(MEMBER))!;
    expect(await stack.app.installations.getOptions(installation.id)).toMatchObject({
      note: `${site.id}:hello`,
    });
  });

  it("refuses another widget's POST at its address", async () => {
    const opened = await stack.emulator.openPlacement(MEMBER, { placement: 'LANDING_SETTINGS' });
    const action = opened.payload.action.replace('/placements/settings', '/placements/notes');
    const res = await resubmit({ action, body: opened.payload.body });
    expect(res.status).toBe(400);
    expect(res.body).toContain('placement_mismatch');
  });
});
