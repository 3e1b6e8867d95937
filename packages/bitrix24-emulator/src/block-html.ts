/** Tiny stand-ins for landing block markup, so the editor page shows something recognisable per block code. */

const NAMES: Record<string, string> = {
  '43.4.cover_with_price_text_button_bgimg': 'Cover with price, text and button',
  '04.1.one_col_fix_with_title': 'Title',
  '27.one_col_fix_title_and_text_2': 'Title and text',
  '0.menu_02': 'Menu with logo on the left and menu items on the right',
  '04.7.one_col_fix_with_title_and_text_2': 'Title with text',
  '32.2.img_one_big': 'Big image',
};

export const blockName = (code: string): string =>
  NAMES[code] ?? (code.startsWith('repo_') ? 'Custom block' : code);

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function blockHtml(id: number, code: string, title: string): string {
  const t = escapeHtml(title);
  if (code.startsWith('43.4.cover')) {
    return `<section class="lb-cover"><h2>${t}</h2><p class="lb-price">$ 49.00</p><p>Everything you need, in one place.</p><a class="lb-btn">Buy now</a></section>`;
  }
  if (code.startsWith('0.menu')) {
    return `<nav class="lb-menu"><b>LOGO</b><span>Home</span><span>Catalog</span><span>About</span><span>Contacts</span></nav>`;
  }
  if (code.startsWith('repo_')) {
    return `<section class="lb-custom"><h3>Custom block ${escapeHtml(code)}</h3><p>Registered by an application (#${id}).</p></section>`;
  }
  return `<section class="lb-text"><h3>${t}</h3><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Block #${id}.</p></section>`;
}
