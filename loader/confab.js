/* Confab loader: a launcher bubble; the widget iframe loads on intent, or at once on the pages
 * after the visitor started a chat, or (data-greetings="on") where a greeting rule may greet. This is the readable source: the server sends
 * confab.min.js, made from it by scripts/build-loader.sh (≤ 2048 B gzip: bench/sizes.sh). */
(() => {
  const doc = document;
  const script = doc.currentScript; // only set during this synchronous run
  const stub = window.Confab; // the page's queueing snippet, or a first copy of this loader
  if (stub?._loaded || !script) return; // included twice: first copy wins
  const attr = (name) => script.getAttribute('data-' + name);
  const orgId = attr('organization-id');
  if (!orgId) return console.error('Confab: no data-organization-id');

  // The server is where this file came from; no message can change it.
  const base = new URL('.', script.src);
  const widgetOrigin = base.origin;
  let frame, ready, isOpen = false, greeting, unread = 0;
  const queue = []; // messages for the widget until it says `ready`
  const listeners = Object.create(null); // no prototype: on('constructor') finds nothing
  // Every value from the page is checked against a pattern before it is used.
  const valid = (pattern, value) => pattern.test(value) ? value : '';
  const hex = (value) => valid(/^#([\da-f]{3}){1,2}$/i, value);
  let color = hex(attr('color'));
  const langTag = (value) => valid(/^[a-z]{2,3}(-[a-z\d]{1,8})*$/i, value);
  const lang = langTag(attr('lang')) || langTag(doc.documentElement.lang);

  const host = doc.createElement('div');
  host.id = 'confab-root';
  const shadow = host.attachShadow({ mode: 'open' });
  // Constant markup only: no user or URL data ever goes into innerHTML. Places come from
  // custom properties (--x, --y, --z), set by style.setProperty below; the side is the
  // inline end, so direction:rtl puts bubble and window on the left.
  shadow.innerHTML = '<style>:host{all:initial}div{--y:20px}' +
    '.launcher,iframe{position:fixed;inset-inline-end:var(--x,20px);z-index:var(--z,2147483000);' +
    'border:0;box-shadow:0 6px 24px #0004}' +
    '.launcher{bottom:var(--y);width:56px;height:56px;padding:0;border-radius:50%;background:#4f46e5;cursor:pointer}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:8px;padding:0 6px;border-radius:10px;' +
    'background:#dc2626;color:#fff;font:700 12px/20px sans-serif}' +
    // dvh: the on-screen keyboard shrinks the window instead of hiding the composer.
    'iframe{display:none;bottom:calc(var(--y) + 68px);width:370px;height:min(600px,100dvh - var(--y) - 88px);' +
    'border-radius:16px;background:#fff}' +
    'svg{display:block;margin:auto;fill:none;stroke:#fff;stroke-width:2.2;stroke-linecap:round}' +
    '.open iframe,.open .x{display:block}.open .chat,.x{display:none}' +
    'img{position:absolute;inset:12px;width:32px;height:32px;object-fit:contain}' +
    // A greeting while closed: the frame shows only its card, above the bubble.
    '.greet iframe{display:block;width:min(340px,100vw - 40px);height:150px}' +
    // Phones, and short windows (a laptop at 200 % zoom): full screen; the widget's own
    // minimize button closes it.
    // With the on-screen keyboard up, the frame fits what is left visible (--vh, --vt).
    '@media (max-width:480px),(max-height:560px){.open iframe{inset:var(--vt,0) 0 auto;width:100%;' +
    'height:var(--vh,100dvh);border-radius:0}' +
    '.open .launcher{display:none}}</style>' +
    '<div><button type="button" class="launcher">' +
    '<svg viewBox="0 0 24 24" width="28" height="28"><path class="chat" fill="#fff" d="M4 4h16v12H9l-5 4z"/>' +
    '<path class="x" d="M7 7l10 10M17 7 7 17"/></svg>' +
    '<span class="badge" hidden></span></button></div>';
  const wrap = shadow.lastChild;
  const launcher = wrap.firstChild;
  const badge = launcher.lastChild;
  // The site's own launcher picture: an https: or data:image address only, never markup.
  const icon = valid(/^(https:|data:image\/)/i, attr('launcher-icon') || '');
  if (icon) {
    const img = doc.createElement('img');
    img.className = 'chat';
    img.alt = '';
    img.src = icon;
    launcher.prepend(img);
    launcher.querySelector('path.chat').remove();
  }

  // Theming from the script tag (the colour is applied at mount, with the page's CSS).
  const setVar = (name, value) => wrap.style.setProperty(name, value);
  const int = (name, prop, unit) => {
    const value = valid(/^-?\d{1,9}$/, attr(name));
    if (value) setVar(prop, value + unit);
  };
  int('offset-x', '--x', 'px');
  int('offset-y', '--y', 'px');
  int('z-index', '--z', '');
  if (attr('position') == 'left') setVar('direction', 'rtl');

  // Storage may be missing or throw (blocked cookies, sandboxes): continuity is a nicety.
  // `value` absent reads, '' removes.
  function store(area, key, value) {
    try {
      const s = window[area + 'Storage'];
      if (value == null) return s.getItem(key);
      value ? s.setItem(key, value) : s.removeItem(key);
    } catch {}
  }

  function attempt(fn, args) {
    try { fn(...args); } catch (err) { console.error(err); } // the page's mistake is not ours
  }
  const emit = (name, arg) => listeners[name]?.forEach((fn) => attempt(fn, [arg]));

  function post(message) {
    message.confab = 1;
    frame.contentWindow.postMessage(message, widgetOrigin);
  }

  // Page data waits for the widget; it never inserts the iframe by itself.
  function send(message) {
    if (ready) post(message);
    else if (queue.length < 99) queue.push(message);
  }

  function ensureFrame() {
    if (frame) return;
    frame = doc.createElement('iframe');
    frame.title = 'Chat window';
    const query = new URLSearchParams({ organization_id: orgId, host_origin: location.origin });
    if (color) query.set('color', color);
    if (lang) query.set('lang', lang);
    // The site's own words for the window: text only, checked again by the widget.
    for (const name of ['title', 'subtitle', 'welcome']) attr(name) && query.set(name, attr(name));
    // data-sneak-peek="on": agents see what the visitor is typing before it is sent.
    attr('sneak-peek') == 'on' && query.set('sneak_peek', '1');
    // data-consent: the window asks before it connects (its text, or the default when empty).
    attr('consent') != null && query.set('consent', attr('consent'));
    frame.src = base + 'widget/?' + query;
    // Before the launcher: the tab order follows the screen (the window is above the bubble).
    wrap.insertBefore(frame, launcher);
    addEventListener('message', onMessage);
    api.updatePage(); // the agents see the page; greeting rules look at it
  }

  function render() {
    launcher.setAttribute('aria-expanded', isOpen);
    launcher.setAttribute('aria-label', isOpen ? 'Close chat' : attr('label') || 'Open chat');
    wrap.className = isOpen ? 'open' : greeting ? 'greet' : '';
    badge.textContent = unread;
    badge.hidden = isOpen || !unread;
  }

  function setOpen(open) {
    if (open == isOpen) return;
    if (open) ensureFrame(), wrap.hidden = false, stopFlash();
    isOpen = open;
    store('session', 'confab:open', open ? 1 : ''); // still open on the site's next page
    render();
    const type = open ? 'open' : 'close';
    if (ready) post({ type });
    emit(type);
  }
  const toggle = () => setOpen(!isOpen);

  // Attention: the title alternates with "(N) New message" until the visitor looks.
  let flashTimer, flashOn, original, missed = 0;
  function flash() {
    doc.title = (flashOn = !flashOn) ? `(${Math.max(unread, missed)}) New message` : original;
  }
  function stopFlash() {
    if (flashTimer) clearInterval(flashTimer), doc.title = original;
    flashTimer = flashOn = missed = 0;
  }
  doc.addEventListener('visibilitychange', () => doc.hidden || stopFlash());
  // The on-screen keyboard shrinks the visual viewport, not the layout one: follow it.
  const viewport = window.visualViewport;
  const fit = () => {
    const shrunk = viewport.height < innerHeight - 1;
    setVar('--vh', shrunk ? viewport.height + 'px' : '');
    setVar('--vt', shrunk ? viewport.offsetTop + 'px' : '');
  };
  viewport?.addEventListener('resize', fit);
  viewport?.addEventListener('scroll', fit);

  function beep() {
    try {
      const audio = beep.a ||= new AudioContext();
      audio.resume(); // suspended when made before the visitor touched the page
      const tone = new OscillatorNode(audio, { frequency: 880 });
      tone.connect(new GainNode(audio, { gain: 0.1 })).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.2);
    } catch {} // no audio: the title still flashes (refused autoplay stays silent)
  }

  function onMessage({ origin, source, data }) {
    if (origin !== widgetOrigin || source !== frame.contentWindow || data?.confab !== 1) return;
    const { type, name, data: detail } = data;
    if (type == 'ready') {
      ready = 1;
      if (isOpen) post({ type: 'open' }); // opened before the widget could hear it
      queue.splice(0).forEach(post);
      emit(type);
    } else if (type == 'open') {
      setOpen(true); // the visitor replied to a greeting
    } else if (type == 'greeting') {
      greeting = data.shown;
      render();
    } else if (type == 'close') {
      const focusInPanel = doc.activeElement == host;
      setOpen(false);
      if (focusInPanel) launcher.focus(); // not lost to <body>
    } else if (type == 'unread') {
      unread = data.count | 0;
      render();
      emit(type, unread);
    } else if (type == 'chatting') {
      store('local', 'confab:chatting', 1); // the next pages load the widget at once
    } else if (type == 'event') {
      if (name == 'message' && detail?.author == 'agent' && (!isOpen || doc.hidden)) {
        missed++;
        if (!flashTimer) original = doc.title, flash(), flashTimer = setInterval(flash, 1000);
        if (attr('sound') == 'on') beep();
      }
      emit(name, detail);
    }
  }

  // Nothing is fetched before hover, focus, click or an API call.
  launcher.onpointerenter = launcher.onfocus = ensureFrame;
  launcher.onclick = () => {
    toggle();
    if (isOpen) frame.focus(); // the widget then focuses its composer
  };
  addEventListener('keydown', (e) => {
    if (e.key == 'Escape' && isOpen && !e.defaultPrevented) setOpen(false), launcher.focus();
  });

  const customer = (fields) => send({ type: 'customer', ...fields });
  // Callable like the page's snippet too (Confab('open')), for calls made after we loaded.
  const api = window.Confab = Object.assign((name, ...args) => api[name](...args), {
    _loaded: 1,
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle,
    hide: () => { setOpen(false); wrap.hidden = true; },
    show: () => { wrap.hidden = false; },
    // ready, open, close, unread; the widget's chat_started, message, greeting, availability
    on: (name, fn) => { (listeners[name] ||= []).push(fn); },
    setCustomerName: (name) => customer({ name: '' + name }),
    setCustomerEmail: (email) => customer({ email: '' + email }),
    // The Customer Chat API's shape: [{key: value}, …], every value a string.
    setSessionVariables: (vars) => customer({
      session_fields: Object.entries(Object(vars)).map(([key, value]) => ({ [key]: '' + value })),
    }),
    updatePage: () => send({ type: 'page', url: location.href, title: doc.title }),
  });

  render();
  // Calls the page made before this script ran (the snippet's Confab.q), in order.
  stub?.q?.forEach((args) => attempt(api, args));

  function mount() {
    doc.body.appendChild(host);
    // The page's CSS may theme us too (--confab-color), readable once we are in the document.
    color ||= hex(getComputedStyle(host).getPropertyValue('--confab-color').trim());
    if (color) launcher.style.setProperty('background', color);
    // A visitor with a chat gets the widget at once (hidden), so that replies raise the badge.
    if (store('session', 'confab:open')) setOpen(true);
    else if (store('local', 'confab:chatting')) ensureFrame();
    // A greeting to show counts as intent: the site opted in, and a rule may greet on this
    // page (a cookie-less question; the widget loads only if the answer is yes).
    else if (attr('greetings') == 'on') {
      fetch(base + 'v1/greets?url=' + encodeURIComponent(location.href))
        .then((r) => r.json()).then((a) => a.greets && ensureFrame(), () => {});
    }
  }
  if (doc.body) mount();
  else doc.addEventListener('DOMContentLoaded', mount);
})();
