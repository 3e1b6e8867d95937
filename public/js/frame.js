// Shared by widget and state pages: connect to the Bitrix24 parent window, size the iframe to
// the content, and (block tools) ask the editor to re-render a block after an action.

// "Try again" on a state page: the frame's document came from a form POST that a static page
// cannot rebuild; reloading the frame makes the browser send that same POST again. After a 429
// the button waits for the Retry-After, counting down in the sentence beside it.
for (const button of document.querySelectorAll('[data-retry]')) {
  button.addEventListener('click', () => location.reload());
  let left = Number(button.getAttribute('data-retry-after'));
  if (!(left > 0)) continue;
  const when = document.querySelector('[data-retry-when]');
  const sentence = when?.textContent ?? '';
  const tick = setInterval(() => {
    left -= 1;
    if (when) when.textContent = sentence.replace(/\d+/, String(Math.max(left, 0)));
    if (left > 0) return;
    clearInterval(tick);
    button.disabled = false;
  }, 1000);
}

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
