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
  // Fit to the content's own height, and only when it changed: fitWindow() measures the
  // document's scrollHeight, which never drops below the frame's current height, so it
  // cannot shrink the frame and can feed back on itself.
  const main = document.querySelector('main') ?? document.body;
  let fitted = 0;
  const fitToContent = () => {
    const height = Math.ceil(main.getBoundingClientRect().height) + 32;
    if (height === fitted) return;
    fitted = height;
    b24.parent.resizeWindow(document.documentElement.clientWidth, height).catch(() => {});
  };
  fitToContent();
  new ResizeObserver(() => requestAnimationFrame(fitToContent)).observe(main);
  const refresh = document.querySelector('[data-refresh-block]');
  if (refresh) {
    const id = Number(refresh.getAttribute('data-refresh-block'));
    await b24.placement.call('refreshBlock', { id });
    document.body.dataset.blockRefreshed = String(id);
  }
})();
