/* Confab loader: a launcher bubble; the widget iframe loads only on intent. */
(function () {
  var script = document.currentScript; // only set during this synchronous run
  if (window.Confab || !script) return; // included twice: first copy wins
  var orgId = script.getAttribute('data-organization-id');
  if (!orgId) return console.error('Confab: data-organization-id is missing on the script tag');

  // The server is where this file came from; no message can change it.
  var base = new URL('.', script.src);
  var widgetOrigin = base.origin;
  var frame, frameLoaded, isOpen = false, unread = 0;
  var listeners = { open: [], close: [], unread: [] };

  var host = document.createElement('div');
  host.id = 'confab-root';
  var shadow = host.attachShadow({ mode: 'open' });
  // Constant markup only: no user or URL data ever goes into innerHTML.
  shadow.innerHTML = '<style>:host{all:initial}' +
    '.launcher,.frame{position:fixed;right:20px;z-index:2147483000;border:0;box-shadow:0 6px 24px #0004}' +
    '.launcher{bottom:20px;width:56px;height:56px;padding:0;border-radius:50%;background:#4f46e5;cursor:pointer}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:8px;padding:0 6px;border-radius:10px;' +
    'background:#dc2626;color:#fff;font:700 12px/20px sans-serif}' +
    '.frame{display:none;bottom:88px;width:370px;height:min(600px,100vh - 108px);border-radius:16px;background:#fff}' +
    'svg{display:block;margin:auto;fill:none;stroke:#fff;stroke-width:2.5;stroke-linecap:round;stroke-linejoin:round}' +
    '.open .frame,.open .x{display:block}.open .chat,.x{display:none}' +
    // Phones: full screen; the widget's own minimize button closes it.
    '@media (max-width:480px){.frame{inset:0;width:100%;height:100%;border-radius:0}' +
    '.open .launcher{display:none}}</style>' +
    '<div><button type="button" class="launcher">' +
    '<svg class="chat" viewBox="0 0 24 24" width="28" height="28"><path fill="#fff" d="M4 4h16v12H9l-5 4z"/></svg>' +
    '<svg class="x" viewBox="0 0 24 24" width="24" height="24"><path d="M6 6l12 12M18 6 6 18"/></svg>' +
    '<span class="badge" hidden></span></button></div>';
  var wrap = shadow.lastChild;
  var launcher = wrap.firstChild;
  var badge = launcher.lastChild;

  function emit(name, arg) {
    listeners[name].forEach(function (fn) {
      try { fn(arg); } catch (err) { console.error(err); }
    });
  }

  function post(type) {
    if (frameLoaded) frame.contentWindow.postMessage({ confab: 1, type: type }, widgetOrigin);
  }

  function ensureFrame() {
    if (frame) return;
    frame = document.createElement('iframe');
    frame.className = 'frame';
    frame.title = 'Chat window';
    frame.src = base + 'widget/?organization_id=' + encodeURIComponent(orgId) +
      '&host_origin=' + encodeURIComponent(location.origin);
    frame.onload = function () {
      frameLoaded = true;
      if (isOpen) post('open'); // opened before the widget could hear it
    };
    wrap.appendChild(frame);
    addEventListener('message', onMessage);
  }

  function render() {
    wrap.className = isOpen ? 'open' : '';
    launcher.setAttribute('aria-expanded', isOpen);
    launcher.setAttribute('aria-label', isOpen ? 'Close chat' : 'Open chat');
    badge.textContent = unread;
    badge.hidden = isOpen || !unread;
  }

  function setOpen(open) {
    if (open == isOpen) return;
    if (open) { ensureFrame(); wrap.hidden = false; }
    isOpen = open;
    render();
    post(open ? 'open' : 'close');
    emit(open ? 'open' : 'close');
  }

  function onMessage(e) {
    var data = e.data;
    if (e.origin !== widgetOrigin || e.source !== frame.contentWindow ||
        !data || data.confab !== 1) return;
    if (data.type == 'close') {
      var focusInPanel = document.activeElement == host;
      setOpen(false);
      if (focusInPanel) launcher.focus(); // not lost to <body>
    } else if (data.type == 'unread') {
      unread = Math.max(0, data.count | 0);
      render();
      emit('unread', unread);
    }
  }

  // Nothing is fetched before hover, focus, click or an API call.
  launcher.onpointerenter = launcher.onfocus = ensureFrame;
  launcher.onclick = toggle;
  function toggle() { setOpen(!isOpen); }

  window.Confab = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    toggle: toggle,
    hide: function () { setOpen(false); wrap.hidden = true; },
    show: function () { wrap.hidden = false; },
    on: function (name, fn) { listeners[name] && listeners[name].push(fn); }
  };

  render();
  function mount() { document.body.appendChild(host); }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
