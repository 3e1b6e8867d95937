// Runs inside the Bitrix24 install iframe: the server has already bound everything, so tell
// the portal the install is finished (placements stay hidden until then) and fit the frame.
(async () => {
  const status = document.getElementById('install-status');
  const say = (text) => {
    if (status) status.textContent = text;
  };
  try {
    const b24 = await window.B24Js.initializeB24Frame();
    await b24.installFinish();
    say(status?.dataset.done ?? 'Done.');
    document.body.dataset.installFinished = 'true';
    await b24.parent.fitWindow();
  } catch (error) {
    say(`${status?.dataset.failed ?? 'Error'}: ${error?.message ?? error}`);
    document.body.dataset.installFinished = 'error';
  }
})();
