// Shared by widget pages: connect to the Bitrix24 parent window, size the iframe to the
// content, and (block tools) ask the editor to re-render a block after an action.
(async () => {
  let b24;
  try {
    b24 = await window.B24Js.initializeB24Frame();
  } catch (error) {
    document.body.dataset.frame = 'unavailable';
    console.warn('Not inside a Bitrix24 frame:', error?.message ?? error);
    return;
  }
  document.body.dataset.frame = 'ready';
  const fit = () => b24.parent.fitWindow().catch(() => {});
  await fit();
  new ResizeObserver(() => fit()).observe(document.body);
  const refresh = document.querySelector('[data-refresh-block]');
  if (refresh) {
    const id = Number(refresh.getAttribute('data-refresh-block'));
    await b24.placement.call('refreshBlock', { id });
    document.body.dataset.blockRefreshed = String(id);
  }
})();
