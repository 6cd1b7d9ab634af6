/* Confab loader: a launcher bubble; the widget iframe loads on intent, or at once on the pages
 * after the visitor started a chat, or (data-greetings="on") where a greeting rule may greet.
 * This is the readable source: the server sends confab.min.js, made from it by
 * scripts/build-loader.sh (≤ 2048 B gzip: bench/sizes.sh, run by `make test`).
 *
 * It runs on sites with a strict Content-Security-Policy: the DOM is built with createElement
 * (no markup is parsed, so Trusted Types have nothing to refuse), styles come from a
 * constructed stylesheet and CSSOM (no <style> element or style attribute for a nonce-only
 * style-src to block), and it fetches only from the origin it was loaded from. */
(() => {
  const doc = document;
  const script = doc.currentScript; // only set during this synchronous run
  const stub = window.Confab; // the page's queueing snippet, or a first copy of this loader
  if (stub?.on || !script) return; // included twice: the first copy (which has `on`) wins
  const attr = (name) => script.getAttribute('data-' + name);
  if (!attr('organization-id')) throw Error('Confab: no data-organization-id');

  // The server is where this file came from; no message can change it.
  const base = new URL('.', script.src);
  const widgetOrigin = base.origin;
  let frame, ready, focusing, original, isOpen = false, unread = 0;
  const queue = []; // messages for the widget until it says `ready`
  // Page listeners (Confab.on): an EventTarget reports a listener's error without stopping
  // the others or us.
  const events = new EventTarget();

  const el = (tag, parent) => parent.appendChild(doc.createElement(tag));
  const host = doc.createElement('div');
  host.id = 'confab-root';
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  // Page CSS cannot reach into the shadow root, and :host's important reset outranks the
  // page's important rules on the host element itself. Places come from the script tag's
  // whole numbers (data-offset-x → --offset-x); the side is the inline end, so direction:rtl
  // puts everything on the left.
  sheet.replaceSync(':host{all:initial!important}' +
    'button,iframe{position:fixed;inset-inline-end:calc(var(--offset-x,20)*1px);bottom:calc(var(--offset-y,20)*1px);' +
    'z-index:var(--z-index,2147483000);border:0}' +
    'button{width:56px;height:56px;border-radius:50%;background:#4f46e5;box-shadow:0 6px 24px #0004;cursor:pointer}' +
    // The icon: a speech bubble, a cross while open; the site's picture covers the bubble.
    'button:before,button:after{content:"";position:absolute;inset:17px 15px 19px;border-radius:7px 7px 7px 0;background:#fff}' +
    '.open button:before,.open button:after{inset:27px 16px;border-radius:2px;rotate:45deg}.open button:after{rotate:-45deg}' +
    'img{position:absolute;inset:0;padding:12px;width:32px;height:32px;border-radius:50%;background:inherit;object-fit:contain}' +
    '.open img,iframe,[hidden]{display:none}');
  const frameSheet = new CSSStyleSheet();
  shadow.adoptedStyleSheets = [sheet, frameSheet];
  const wrap = el('div', shadow);
  const launcher = el('button', wrap);
  // The site's own launcher picture: an https: or data:image address only, never markup.
  const icon = attr('launcher-icon');
  if (/^(https:|data:image\/)/i.test(icon)) el('img', launcher).src = icon;
  const badge = el('span', launcher) // the unread count;

  // The window reads the script tag's data-* attributes as they are (and checks each), with
  // the page's origin and language. Those that are whole numbers are custom properties too
  // (data-offset-x="40" → --offset-x: 40).
  const setVar = (name, value) => wrap.style.setProperty(name, value);
  const query = new URLSearchParams({ 'host-origin': location.origin, 'page-lang': doc.documentElement.lang });
  for (const { name, value } of script.attributes) {
    const key = name.slice(5);
    if (name.startsWith('data-')) query.set(key, value), value == parseInt(value) && setVar('--' + key, value);
  }
  if (attr('position') == 'left') setVar('direction', 'rtl');

  // Storage may be missing or throw (blocked cookies, sandboxes): continuity is a nicety.
  // `value` absent reads, '' removes.
  function store(area, key, value) {
    try {
      const storage = window[area + 'Storage'];
      return value == null ? storage.getItem(key) : value ? storage.setItem(key, value) : storage.removeItem(key);
    } catch {}
  }

  const emit = (name, detail) => events.dispatchEvent(new CustomEvent(name, { detail }));

  function post(message) {
    message.confab = 1;
    frame.contentWindow.postMessage(message, widgetOrigin);
  }

  // Page data waits for the widget; it never inserts the iframe by itself. A queued copy is
  // made now, so that what cannot be sent throws at the page's call, not at our flush.
  function send(message) {
    if (ready) post(message);
    else if (queue.length < 99) queue.push(structuredClone(message));
  }

  function ensureFrame() {
    if (frame) return;
    frame = el('iframe', wrap);
    frame.title = 'Chat window';
    frame.allow = 'autoplay'; // data-sound="on": the widget beeps when a reply arrives
    // The bubble's colour, which page CSS may have set.
    query.set('color', getComputedStyle(launcher).backgroundColor);
    frame.src = base + 'widget/?' + query;
    // Before the launcher: the tab order follows the screen (the window is above the bubble).
    wrap.prepend(frame);
    addEventListener('message', onMessage);
    api.updatePage(); // the agents see the page; greeting rules look at it
  }

  function render() {
    launcher.ariaExpanded = isOpen;
    launcher.ariaLabel = isOpen ? 'Close chat' : attr('label') || 'Open chat';
    wrap.className = isOpen ? 'open' : '';
    badge.textContent = unread || ''; // the widget's style hides it while empty or open
  }

  function setOpen(open) {
    if (open == isOpen) return;
    if (open) ensureFrame(), wrap.hidden = false;
    isOpen = open;
    store('session', 'confab:open', open ? 1 : ''); // still open on the site's next page
    render();
    const type = open ? 'open' : 'close';
    if (ready) post({ type });
    emit(type);
  }
  const toggle = () => setOpen(!isOpen);

  // The on-screen keyboard (or a pinch zoom) shrinks the visual viewport, not the layout
  // one: a full-screen window follows what is visible.
  const viewport = window.visualViewport;
  const fit = () => {
    setVar('--vh', viewport.height + 'px');
    setVar('--vt', viewport.offsetTop + 'px');
  };
  viewport?.addEventListener('resize', fit);
  viewport?.addEventListener('scroll', fit);

  // Every message of the widget is also an event for the page's listeners (Confab.on): ready,
  // unread, chat_started, message, greeting, availability. `open` and `close` are emitted
  // by setOpen, when they change something.
  function onMessage({ origin, source, data: message }) {
    if (origin !== widgetOrigin || source !== frame.contentWindow) return;
    const { type, data } = message;
    if (type == 'ready') {
      ready = 1;
      if (isOpen) post({ type: 'open' }), focus(); // opened before the widget could hear it
      queue.splice(0).forEach(post);
    }
    // The window's look on the page, for its state: its place and size (a greeting card while
    // closed, full screen on phones), the badge's look. Until it comes the frame stays hidden.
    if (type == 'style') frameSheet.replaceSync(data);
    if (type == 'open') return setOpen(true); // the visitor replied to a greeting
    if (type == 'close') {
      const focusInPanel = doc.activeElement == host;
      setOpen(false);
      return focusInPanel && launcher.focus(); // not lost to <body>
    }
    if (type == 'unread') unread = data;
    render();
    // The visitor has a chat: the site's next pages load the widget at once.
    if (type == 'chatting') store('local', 'confab:chatting', 1);
    // While a reply waits unseen the widget alternates the title with its own text; none
    // gives the page its exact title back.
    if (type == 'title') {
      original ??= doc.title;
      doc.title = data || original;
      if (!data) original = null;
    }
    emit(type, data);
  }

  // Nothing is fetched before hover, focus, click or an API call.
  launcher.onpointerenter = launcher.onfocus = ensureFrame;
  // A click that opens the window moves the focus into it (the widget then focuses its
  // composer), at once or when the widget is ready; a window open on arrival takes no focus.
  const focus = () => focusing && ready && frame.focus();
  launcher.onclick = () => {
    toggle();
    focusing = isOpen;
    focus();
  };

  // The widget checks and shapes each value (a name or email as text, session variables as
  // the Customer Chat API's [{key: value}, …] of strings).
  const customer = (field) => (value) => send({ type: 'customer', [field]: value });
  // Callable like the page's snippet too (Confab('open')), for calls made after we loaded.
  const api = window.Confab = Object.assign((name, ...args) => api[name](...args), {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle,
    hide: () => { setOpen(false); wrap.hidden = true; },
    show: () => { wrap.hidden = false; },
    // ready, open, close, unread; the widget's chat_started, message, greeting, availability
    on: (name, fn) => events.addEventListener(name, (e) => fn(e.detail)),
    setCustomerName: customer('name'),
    setCustomerEmail: customer('email'),
    setSessionVariables: customer('session'),
    updatePage: () => send({ type: 'page', url: location.href, title: doc.title }),
  });

  render();
  // Calls the page made before this script ran (the snippet's Confab.q), in order, each on
  // its own: one that throws is reported and the next still runs.
  stub?.q?.forEach((args) => setTimeout(api, 0, ...args));

  function mount() {
    doc.body.appendChild(host);
    // The page's CSS may theme us too (--confab-color), readable once we are in the document;
    // CSSOM takes only a colour for background-color.
    launcher.style.backgroundColor = attr('color') || getComputedStyle(host).getPropertyValue('--confab-color');
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
