// One widget = one PlacementModule: what it binds, how its POST is read, what its page shows and
// what its form does. The registry (registry.ts) lists the modules; the routes, the install's
// bindings and the uninstall cleanup are all made from that list. Adding a widget is one module
// file, one template (views/<name>.eta) and its locale keys: docs/adding-a-widget.md.
import { z } from 'zod';
import type { OptionStore } from '../installations/types.js';
import type { PageOptions, PageTarget, WidgetBase, WidgetContext } from './context.js';
import type { Flash } from './messages.js';

/** What a widget's code may use besides its context and the user's Bitrix24 client. */
export interface PlacementServices {
  /** The app's options of this installation (app.option.* as last read or written by us). */
  options: OptionStore;
}

/** What an action answers: a message for the page, and a block for the editor to re-render. */
export type ActionFlash = Flash & { refreshBlock?: number };

export interface PlacementModule<O extends PageOptions = PageOptions, V = unknown> extends PageTarget<O> {
  /** Path under PUBLIC_URL that Bitrix24 POSTs to; the page's forms post to `${handlerPath}/action`. */
  handlerPath: string;
  /** Catalog key of the title Bitrix24 shows in its menu (landing.repo.bind TITLE). */
  titleKey: string;
  /** The placement codes bound for this widget; `blockCodes` is B24_BLOCK_CODES. */
  codes(blockCodes: readonly string[]): string[];
  /** What the page shows, as a key within one portal and user (the view cache's key). */
  viewKey(options: O): string;
  /** Reads what the page shows, with the user's client (`widget.client`). */
  load(widget: WidgetBase<O>, services: PlacementServices): Promise<V>;
  /**
   * Whether this user may run the form's action; asked before anything is loaded, with the
   * portal asked afresh where it matters. Absent: everyone who may open the page.
   */
  mayAct?(widget: WidgetContext<O>, form: Record<string, unknown>): Promise<boolean>;
  /** Runs one form action against the portal's current state (`view` is freshly loaded). */
  act(
    widget: WidgetContext<O>,
    view: V,
    form: Record<string, unknown>,
    services: PlacementServices,
  ): Promise<ActionFlash>;
}

/**
 * A numeric id as Bitrix24 sends it in PLACEMENT_OPTIONS (a string, sometimes a number). Ids
 * start at 1 (the REST methods refuse 0), so a 0 is refused here, as bad input, not by the portal.
 */
export const numericId = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().regex(/^[1-9]\d{0,11}$/, 'must be a numeric id'));

/** Placement codes are case-insensitive in Bitrix24 (`LANDING_BLOCK_repo_1132`). */
export const placementCode = (code: string): string => code.trim().toUpperCase();
