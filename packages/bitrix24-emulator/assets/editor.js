// Sites editor of the local Bitrix24 emulator. Plays the parent window of @bitrix24/b24jssdk:
// app iframes post `command:params:callbackKey:appSid`; we answer `callbackKey:JSON`.
// Every command goes to the emulator first (/_emulator/api/frame-event) so its state records it.
(() => {
  const cfg = window.__EMULATOR__;
  const api = cfg.apiBase;
  const query = new URLSearchParams(location.search);
  let userId = Number(query.get('user')) || cfg.adminUserId;
  const lang = query.get('lang') || cfg.lang;
  let state = null;
  /** frameId → { payload, iframe } */
  const frames = new Map();

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'className') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Number.POSITIVE_INFINITY)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  async function call(path, body) {
    const res = await fetch(api + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.message || data.error || 'HTTP ' + res.status);
    return data;
  }

  function log(kind, text, extra) {
    const list = document.getElementById('event-log');
    const time = new Date().toISOString().slice(11, 19);
    const li = h(
      'li',
      { 'data-kind': kind, 'data-command': extra?.command },
      h('span', { className: 'time' }, time),
      h('span', { className: 'kind' }, kind),
      text,
    );
    list.append(li);
    list.scrollTop = list.scrollHeight;
  }

  function route() {
    const m = /#\/site\/(\d+)(?:\/page\/(\d+))?/.exec(location.hash);
    const firstSite = state.sites.find((s) => !s.deleted) || state.sites[0];
    const site = state.sites.find((s) => m && s.id === Number(m[1])) || firstSite;
    const page = site && (site.pages.find((p) => m && p.id === Number(m[2])) || site.pages[0]);
    return { site, page };
  }

  function closeMenus() {
    for (const el of document.querySelectorAll('.menu-list')) el.remove();
  }

  function menu(anchor, testId, items) {
    closeMenus();
    const list = h('ul', { className: 'menu-list', 'data-testid': testId });
    if (items.length === 0) list.append(h('li', { className: 'muted' }, 'No applications'));
    for (const it of items) {
      list.append(
        h(
          'li',
          {
            className: 'item',
            'data-testid': 'widget-item',
            'data-placement': it.placement,
            'data-handler': it.handler,
            onclick: (e) => {
              e.stopPropagation();
              closeMenus();
              it.open();
            },
          },
          it.title || it.placement,
          h('span', { className: 'hint' }, it.placement),
        ),
      );
    }
    anchor.append(list);
  }

  const blockWidgets = (block) =>
    state.placements.filter(
      (p) =>
        p.placement === 'LANDING_BLOCK_*' || p.placement === ('LANDING_BLOCK_' + block.code).toUpperCase(),
    );

  function renderBlock(block) {
    const more = h(
      'span',
      { className: 'menu' },
      h(
        'button',
        {
          className: 'btn light',
          'data-testid': 'block-more-' + block.id,
          onclick: (e) => {
            e.stopPropagation();
            menu(
              more,
              'block-menu-' + block.id,
              blockWidgets(block).map((p) => ({
                ...p,
                open: () =>
                  openWidget({ placement: p.placement, handler: p.handler, blockId: block.id }, p.title),
              })),
            );
          },
        },
        'More ▾',
      ),
    );
    const content = h('div', { className: 'block-content' });
    content.innerHTML = block.content;
    return h(
      'div',
      {
        className: 'block',
        id: 'block-' + block.id,
        'data-testid': 'block-' + block.id,
        'data-code': block.code,
      },
      h(
        'div',
        { className: 'block-toolbar' },
        h('span', { className: 'code' }, '#' + block.id + ' · ' + block.code),
        block.refreshCount
          ? h(
              'span',
              { className: 'badge ok', 'data-testid': 'refresh-count-' + block.id },
              'refreshed ×' + block.refreshCount,
            )
          : null,
        h('button', { className: 'btn light', disabled: true }, 'Edit'),
        more,
      ),
      content,
    );
  }

  function renderMain(site, page) {
    if (!site) return h('div', { className: 'panel empty' }, 'No sites yet.');
    const settings = h(
      'span',
      { className: 'menu' },
      h(
        'button',
        {
          className: 'btn light',
          'data-testid': 'settings-menu-button',
          onclick: (e) => {
            e.stopPropagation();
            const items = state.placements
              .filter((p) => p.placement === 'LANDING_SETTINGS')
              .map((p) => ({
                ...p,
                open: () =>
                  openWidget(
                    {
                      placement: p.placement,
                      handler: p.handler,
                      siteId: site.id,
                      landingId: page ? page.id : site.id,
                    },
                    p.title,
                  ),
              }));
            menu(settings, 'settings-menu', items);
          },
        },
        '⚙ Settings',
      ),
    );
    return h(
      'div',
      {},
      h(
        'div',
        { className: 'panel site-head' },
        h('h1', {}, site.title, ' ', h('span', { className: 'badge' }, site.type)),
        settings,
      ),
      h(
        'div',
        { className: 'panel', 'data-testid': 'page-view' },
        page
          ? [
              h('h3', {}, page.title),
              page.blocks.length
                ? page.blocks.map(renderBlock)
                : h('p', { className: 'empty' }, 'Empty page'),
            ]
          : h('p', { className: 'empty' }, 'No pages'),
      ),
    );
  }

  function renderSidebar(cur) {
    return h(
      'div',
      { className: 'sidebar' },
      h('h3', {}, 'Sites'),
      state.sites.map((s) => [
        h('div', { className: 'site' + (s.deleted ? ' deleted' : '') }, s.title),
        s.pages.map((p) =>
          h(
            'a',
            {
              className: 'page' + (cur.page && cur.page.id === p.id ? ' current' : ''),
              href: '#/site/' + s.id + '/page/' + p.id,
              'data-testid': 'page-link-' + p.id,
            },
            p.title,
          ),
        ),
      ]),
    );
  }

  function renderTop() {
    const userSelect = h(
      'select',
      {
        'data-testid': 'user-select',
        onchange: (e) => {
          userId = Number(e.target.value);
          load();
        },
      },
      state.users.map((u) =>
        h('option', { value: u.id, selected: u.id === userId }, u.name + (u.admin ? ' (admin)' : '')),
      ),
    );
    const apps = state.apps.map((a) =>
      h(
        'span',
        {},
        h(
          'button',
          {
            className: 'btn success',
            'data-testid': 'install-app-' + a.clientId,
            onclick: () => openInstall(a.clientId),
          },
          'Install app',
        ),
        ' ',
        h(
          'span',
          {
            className: 'badge ' + (a.installFinished ? 'ok' : 'warn'),
            'data-testid': 'install-status-' + a.clientId,
            'data-finished': a.installFinished ? 'Y' : 'N',
          },
          a.clientId +
            ': ' +
            (a.installFinished ? 'installed' : a.installed ? 'install not finished' : 'not installed'),
        ),
      ),
    );
    return h(
      'div',
      { className: 'topbar' },
      h('span', { className: 'logo' }, 'Bitrix', h('b', {}, '24')),
      h('span', { className: 'portal' }, state.portal.title + ' · ' + state.portal.domain),
      h('span', { className: 'spacer' }),
      apps,
      userSelect,
    );
  }

  function render() {
    const cur = route();
    const root = document.getElementById('app');
    root.replaceChildren(
      renderTop(),
      h(
        'div',
        { className: 'layout' },
        renderSidebar(cur),
        h('div', { className: 'main' }, renderMain(cur.site, cur.page)),
      ),
    );
  }

  async function load() {
    state = await call('/state?user=' + userId);
    render();
  }

  function closeSlider() {
    const el = document.getElementById('slider');
    if (el) el.remove();
  }

  /** Bitrix24 opens apps by form-POSTing into a named iframe; the SDK reads DOMAIN|PROTOCOL|APP_SID from the name. */
  function openFrame(payload, title) {
    closeSlider();
    const iframe = h('iframe', {
      name: payload.iframeName,
      id: 'app-frame',
      'data-testid': 'app-frame',
      'data-frame-id': payload.frameId,
    });
    const slider = h(
      'div',
      { className: 'slider', id: 'slider', 'data-testid': 'slider' },
      h(
        'div',
        { className: 'slider-head' },
        h('h2', { id: 'slider-title' }, title),
        h('button', { className: 'btn light', 'data-testid': 'slider-close', onclick: closeSlider }, 'Close'),
      ),
      h('div', { className: 'slider-body' }, iframe),
    );
    document.body.append(slider);
    frames.set(payload.frameId, { payload, iframe });
    const form = h('form', {
      method: 'post',
      action: payload.action,
      target: payload.iframeName,
      style: 'display:none',
    });
    for (const [k, v] of payload.body) form.append(h('input', { type: 'hidden', name: k, value: v }));
    document.body.append(form);
    form.submit();
    form.remove();
    log('open', payload.init.PLACEMENT + ' → ' + payload.action, { command: 'open' });
  }

  async function openInstall(clientId) {
    try {
      const payload = await call('/open', { kind: 'install', clientId, userId, lang });
      openFrame(payload, 'Installing ' + clientId);
    } catch (e) {
      log('error', String(e.message || e));
    }
  }

  async function openWidget(opts, title) {
    try {
      const payload = await call('/open', { kind: 'placement', userId, lang, ...opts });
      openFrame(payload, title || opts.placement);
    } catch (e) {
      log('error', String(e.message || e));
    }
  }

  /** `cmd:params:key:appSid`, params being JSON (with colons of its own) or empty. */
  function parseMessage(data) {
    if (data && typeof data === 'object' && typeof data.method === 'string') {
      return { command: data.method, params: data.params, key: data.callback, appSid: data.appSid };
    }
    if (typeof data !== 'string') return null;
    const first = data.indexOf(':');
    if (first < 0) return null;
    const command = data.slice(0, first);
    let rest = data.slice(first + 1);
    const lastA = rest.lastIndexOf(':');
    if (lastA < 0) return null;
    const appSid = rest.slice(lastA + 1);
    rest = rest.slice(0, lastA);
    const lastB = rest.lastIndexOf(':');
    const key = lastB < 0 ? rest : rest.slice(lastB + 1);
    const raw = lastB < 0 ? '' : rest.slice(0, lastB);
    let params = raw;
    if (raw) {
      try {
        params = JSON.parse(raw);
      } catch {
        params = raw;
      }
    }
    return { command, params, key, appSid };
  }

  function applyEffects(frame, msg, res) {
    const p = msg.params && typeof msg.params === 'object' ? msg.params : {};
    if (msg.command === 'resizeWindow') {
      const height = Number.parseInt(p.height, 10);
      if (height > 0) frame.iframe.style.height = height + 'px';
      if (p.width)
        frame.iframe.style.width = /^\d+$/.test(String(p.width)) ? p.width + 'px' : String(p.width);
    }
    if (msg.command === 'setTitle' && p.title) document.getElementById('slider-title').textContent = p.title;
    if (msg.command === 'closeApplication') closeSlider();
    if (res.block) {
      const old = document.getElementById('block-' + res.block.id);
      if (old) {
        const fresh = renderBlock(res.block);
        fresh.classList.add('flash');
        old.replaceWith(fresh);
      }
    }
    if (res.reloadState) {
      const title = document.getElementById('slider-title')?.textContent || '';
      call('/state?user=' + userId).then((s) => {
        state = s;
        const keep = document.getElementById('slider');
        render();
        if (keep) document.body.append(keep);
        // installFinish from the installer: the frame reloads with the app's own page (a new POST),
        // after the re-render so that moving the slider does not blank the new frame.
        if (res.navigate) openFrame(res.navigate, title);
      });
    }
  }

  window.addEventListener('message', async (ev) => {
    const frame = [...frames.values()].find((f) => f.iframe.contentWindow === ev.source);
    if (!frame) return;
    const msg = parseMessage(ev.data);
    if (!msg) return;
    if (msg.appSid && msg.appSid !== frame.payload.appSid) {
      log('ignored', msg.command + ': unknown APP_SID ' + msg.appSid);
      return;
    }
    log('frame', msg.command + (msg.params ? ' ' + JSON.stringify(msg.params) : ''), {
      command: msg.command,
    });
    let res = { reply: null };
    try {
      res = await call('/frame-event', {
        frameId: frame.payload.frameId,
        command: msg.command,
        params: msg.params ?? null,
      });
    } catch (e) {
      log('error', msg.command + ': ' + String(e.message || e));
    }
    applyEffects(frame, msg, res);
    if (msg.key && ev.source) {
      const body = res.reply === null || res.reply === undefined ? '' : JSON.stringify(res.reply);
      ev.source.postMessage(msg.key + ':' + body, ev.origin);
    }
  });

  document.addEventListener('click', closeMenus);
  window.addEventListener('hashchange', () => state && render());
  load().then(() => log('ready', 'editor for ' + cfg.memberId + ' as user ' + userId));
})();
