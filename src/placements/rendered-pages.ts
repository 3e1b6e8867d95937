// A warm widget open shows the same page again: the same view (the view cache's entry, one
// object until it reloads or an action invalidates the portal's views) with the same sealed
// page context (handed out again for a minute, PageContextSigner.signReusable). Rendering the
// template was 9 % of a warm open's CPU profile, and a page built of many string pieces costs
// more to write to the socket than a ready buffer, so the encoded page is kept.
//
// An entry is found by page, portal, user and sealed context (which itself seals portal, user,
// placement, options, language and admin), and is used only while the view it was rendered
// from is the very object the view cache hands out: a reloaded view, another view generation
// or another user's view never matches it.
import { setBounded } from '../bounded-map.js';

export interface RenderedPageKey {
  /** The page's template (PageTarget.name). */
  page: string;
  memberId: string;
  userId: number;
  /** The sealed page context the page carries in its forms. */
  token: string;
}

interface Entry {
  view: unknown;
  html: Buffer;
}

export class RenderedPages {
  private readonly pages = new Map<string, Entry>();

  /**
   * One per widget. Pages are up to about 8 KB, and one is of use for a minute at most (then its
   * sealed context is renewed): 1,000 bound a widget's pages near 8 MB.
   */
  constructor(private readonly maxEntries = 1_000) {}

  get size(): number {
    return this.pages.size;
  }

  /** The page of `view` for `key`, rendered once per view object and context. */
  async get(key: RenderedPageKey, view: unknown, render: () => Promise<string>): Promise<Buffer> {
    const id = `${key.page}\0${key.memberId}\0${key.userId}\0${key.token}`;
    const hit = this.pages.get(id);
    if (hit !== undefined && hit.view === view) return hit.html;
    const html = Buffer.from(await render(), 'utf8');
    setBounded(this.pages, id, { view, html }, this.maxEntries);
    return html;
  }
}
