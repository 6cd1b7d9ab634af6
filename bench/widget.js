// The widget's figures in headless Chromium (Debian's, as e2e uses) against a real server that
// bench/widget.sh started: a chat seeded with 10,000 messages through the Agent Chat API, the
// widget opened alone (as the loader frames it), its history loaded by scrolling up, scrolled
// through, and then 100 agent messages pushed within one second.
//
// Frames are timed by requestAnimationFrame: each callback's timestamp is the start of a frame
// (vsync-aligned), so the gap between two is what that frame took on screen. At 60 Hz a frame
// that keeps its deadline takes 16.7 ms (give or take the browser's 0.1 ms timer steps); one
// that misses it takes at least two refreshes (33.3 ms). A frame counts as over budget when it
// took more than 1.5 refreshes, which no on-time frame does. Long animation frames (the
// browser's own report of frames over 50 ms) are printed with the script that held them.
//
// Memory: after a forced garbage collection, the CDP's Performance.getMetrics (JSHeapUsedSize,
// DOM nodes) and the widget's wasm linear memory (the size of the WebAssembly.Memory its module
// exports, caught as it is instantiated). The heap budget holds for the two together.
//
//   node bench/widget.js          (environment: CONFAB_BENCH_API, CONFAB_AGENT_TOKEN,
//                                  CONFAB_BENCH_ORG; CHROMIUM for another browser binary;
//                                  BENCH_WIDGET_PROFILE=1 prints where the burst's time went,
//                                  by function: serve a widget built without wasm-opt to see
//                                  Rust names)
// Exit status 1 when a figure is over its budget, 2 when the run itself failed.
'use strict';
const { chromium } = require('../e2e/node_modules/playwright');
const { agentApi, sleep } = require('./lib');

const API = process.env.CONFAB_BENCH_API;
const TOKEN = process.env.CONFAB_AGENT_TOKEN;
const ORG = process.env.CONFAB_BENCH_ORG;
const AGENT_ID = 'alex@confab.example';

// The history: THREADS conversations of PER_THREAD agent messages, after the visitor's hello.
// 50 is the most events one resume_chat may carry (MAX_INITIAL_EVENTS).
const THREADS = Number(process.env.BENCH_WIDGET_THREADS || 200);
const PER_THREAD = 50;
const HISTORY = THREADS * PER_THREAD;
const BURST = 100;
const BURST_SECONDS = 1;
// Scrolling: px per frame (a brisk flick, 4,800 px/s) for this many frames, each way.
const SCROLL_STEP_PX = 80;
const SCROLL_FRAMES = 300;

const REFRESH_MS = 1000 / 60;
const BUDGET = { frameMs: 16.7, heapMb: 30 };
// Every wait is bounded.
const LOAD_TIMEOUT_MS = 10 * 60 * 1000;


const agent = agentApi(API, TOKEN);

/** Words of varying length, some on several lines, so rows have different heights. */
function words(thread, index) {
  const n = (thread * 7 + index * 13) % 29;
  let text = `t${thread}.${index}`;
  for (let i = 0; i < n; i++) text += i % 9 === 8 ? '\nand so on' : ' lorem ipsum';
  return text;
}

/** Keeps the wasm instance's memory where the bench can read its size. */
const CATCH_WASM_MEMORY = () => {
  const keep = (result) => {
    const instance = result.instance || result;
    if (instance.exports && instance.exports.memory) window.__benchWasmMemory = instance.exports.memory;
    return result;
  };
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const original = WebAssembly[name];
    WebAssembly[name] = (...args) => original.apply(WebAssembly, args).then(keep);
  }
};

async function openWidget(context) {
  const page = await context.newPage();
  await page.addInitScript(CATCH_WASM_MEMORY);
  await page.goto(`${API}/widget/?organization-id=${ORG}`);
  await page.getByRole('button', { name: 'Send' }).waitFor();
  await page.waitForFunction(() => {
    const send = document.querySelector('button.send');
    return send && !send.disabled && !document.querySelector('.notice');
  }, null, { timeout: 30_000 });
  return page;
}

/** The visitor's chat with its history: returns the chat id. */
async function seed(context) {
  await agent('set_routing_status', { agent_id: AGENT_ID, status: 'accepting_chats' });
  const page = await openWidget(context);
  await page.getByLabel('Message', { exact: true }).fill('hello');
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await page.waitForFunction(() => document.querySelector('.message.mine .receipt'), null, { timeout: 30_000 });
  await page.close();
  const { chats_summary } = await agent('list_chats', {});
  const chat = chats_summary.find((c) => c.last_event_per_type?.message?.event.text === 'hello');
  if (!chat) throw new Error('the visitor\'s chat is not listed');
  await agent('deactivate_chat', { id: chat.id, ignore_requester_presence: true });
  for (let t = 0; t < THREADS; t++) {
    const events = [];
    for (let i = 0; i < PER_THREAD; i++) events.push({ type: 'message', text: words(t, i), visibility: 'all' });
    await agent('resume_chat', { chat: { id: chat.id, thread: { events } } });
    // The newest conversation stays open: the burst goes to it.
    if (t < THREADS - 1) await agent('deactivate_chat', { id: chat.id, ignore_requester_presence: true });
  }
  return chat.id;
}

/** Installs the frame recorder in the page (rAF timestamps, long animation frames). */
function installRecorder(page) {
  return page.evaluate(() => {
    window.__bench = {
      start() {
        const run = (this.run = { times: [], loaf: [], on: true });
        const tick = (t) => {
          if (!run.on) return;
          run.times.push(t);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        run.observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            const script = [...(e.scripts || [])].sort((a, b) => b.duration - a.duration)[0];
            run.loaf.push({
              duration: e.duration,
              blocking: e.blockingDuration,
              script: script ? `${script.invoker || ''} ${script.sourceFunctionName || ''}`.trim() : '',
            });
          }
        });
        run.observer.observe({ type: 'long-animation-frame' });
      },
      stop() {
        const run = this.run;
        run.on = false;
        run.observer.disconnect();
        return { gaps: run.times.slice(1).map((t, i) => t - run.times[i]), loaf: run.loaf };
      },
    };
  });
}

function frameFigures({ gaps, loaf }) {
  const sorted = [...gaps].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  const total = gaps.reduce((a, b) => a + b, 0);
  const over = gaps.filter((g) => g > REFRESH_MS * 1.5).length;
  const longest = loaf.sort((a, b) => b.duration - a.duration)[0];
  return {
    frames: gaps.length,
    fps: total ? (gaps.length * 1000) / total : 0,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? 0,
    over,
    loaf: longest ? `${longest.duration.toFixed(0)} ms${longest.script ? ` (${longest.script})` : ''}` : 'none',
  };
}

const ms = (x) => `${x.toFixed(1)} ms`;
const describeFrames = (f) =>
  `longest ${ms(f.max)} · p99 ${ms(f.p99)} · p95 ${ms(f.p95)} · ${f.fps.toFixed(1)} fps · ` +
  `${f.over} of ${f.frames} frames missed 60 Hz · long animation frames: ${f.loaf}`;

async function memory(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  const { result } = await cdp.send('Runtime.evaluate', {
    expression: 'window.__benchWasmMemory ? window.__benchWasmMemory.buffer.byteLength : -1',
    returnByValue: true,
  });
  if (result.value < 0) throw new Error('the widget\'s wasm memory was not caught');
  return { heap: metric('JSHeapUsedSize'), nodes: metric('Nodes'), wasm: result.value };
}
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** How many rows the list holds in the DOM now. */
const rowsInDom = (page) => page.evaluate(() => document.querySelectorAll('.messages .message').length);

/** Scrolls the list up until its first message (the visitor's hello) is loaded and shown: each
 *  time at the top, the widget fetches the page before and draws it above (the first message in
 *  the page changes; the list's height may not grow, as it is partly estimated). */
async function loadAllHistory(page) {
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  for (let pages = 0; ; pages++) {
    if (Date.now() > deadline) throw new Error('the history did not load in time');
    const before = await page.evaluate(() => {
      const list = document.querySelector('.messages');
      list.scrollTop = 0;
      const first = document.querySelector('.messages .message .text');
      return { first: first && first.textContent, top: !!first && first.textContent === 'hello' };
    });
    if (before.top) return pages;
    await page.waitForFunction((before) => {
      const first = document.querySelector('.messages .message .text');
      return first && first.textContent !== before && !document.querySelector('.loading-older');
    }, before.first, { timeout: 60_000, polling: 50 }).catch(async (error) => {
      const state = await page.evaluate(() => {
        const list = document.querySelector('.messages');
        const first = document.querySelector('.messages .message .text');
        return `scrollTop ${list.scrollTop} of ${list.scrollHeight}, first shown ${JSON.stringify(first && first.textContent.slice(0, 12))}`;
      });
      throw new Error(`page ${pages + 1} did not load (${state}): ${error.message}`);
    });
    if (process.env.BENCH_WIDGET_VERBOSE) console.error(`widget.js: page ${pages + 1} at ${((Date.now() - deadline + LOAD_TIMEOUT_MS) / 1000).toFixed(1)} s`);
  }
}

/** Scrolls the list by `step` px each frame for `frames` frames, inside the page. */
function scrollBy(page, step, frames) {
  return page.evaluate(({ step, frames }) => new Promise((resolve) => {
    const list = document.querySelector('.messages');
    const from = list.scrollTop;
    let n = 0;
    const tick = () => {
      list.scrollTop += step;
      if (++n < frames) requestAnimationFrame(tick);
      else resolve(Math.abs(list.scrollTop - from));
    };
    requestAnimationFrame(tick);
  }), { step, frames });
}

const waitFrames = (page, n) => page.evaluate((n) => new Promise((resolve) => {
  const tick = () => (--n > 0 ? requestAnimationFrame(tick) : resolve());
  requestAnimationFrame(tick);
}), n);

/** The functions that took the most time of their own in a CPU profile, printed to stderr. */
function printProfile(profile) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const gaps = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}`;
    self.set(name, (self.get(name) || 0) + (gaps[i] || 0) / 1000);
  });
  const top = [...self].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [name, ms] of top) console.error(`${ms.toFixed(1).padStart(8)} ms  ${name}`);
}

async function main() {
  if (!API || !TOKEN || !ORG) throw new Error('set CONFAB_BENCH_API, CONFAB_AGENT_TOKEN and CONFAB_BENCH_ORG');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const rows = [];
  let failed = false;
  const row = (figure, measured, budget = '', ok = null) => {
    if (ok === false) failed = true;
    rows.push([figure, measured, budget, ok === null ? '' : ok ? 'within budget' : 'OVER BUDGET']);
  };
  try {
    // The chat panel's size (the loader's iframe).
    const context = await browser.newContext({ viewport: { width: 400, height: 640 } });
    let started = Date.now();
    const chatId = await seed(context);
    row('seeded', `${HISTORY + 1} messages in ${THREADS + 1} conversations, ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const page = await openWidget(context);
    const cdp = await context.newCDPSession(page);
    const newest = words(THREADS - 1, PER_THREAD - 1);
    await page.waitForFunction((text) => [...document.querySelectorAll('.message .text')].some((e) => e.textContent === text),
      newest, { timeout: 60_000 });
    await installRecorder(page);

    // History: scrolled up page by page until the first message.
    started = Date.now();
    await page.evaluate(() => window.__bench.start());
    const pages = await loadAllHistory(page);
    const loading = frameFigures(await page.evaluate(() => window.__bench.stop()));
    row('history loaded by scrolling up', `${HISTORY + 1} messages, ${pages} pages, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    row('frames while loading history', describeFrames(loading));
    const loaded = await memory(cdp);
    const heapRow = (label, m) => row(label, `${mb(m.heap + m.wasm)} (JS ${mb(m.heap)}, wasm ${mb(m.wasm)})`,
      `≤ ${BUDGET.heapMb} MB`, m.heap + m.wasm <= BUDGET.heapMb * 1e6);
    heapRow(`heap, ${HISTORY + 1} messages loaded`, loaded);
    row('DOM nodes · rows in the DOM', `${loaded.nodes} · ${await rowsInDom(page)}`);

    // Scrolling: down from the top, then up from the bottom.
    let maxRows = 0;
    await waitFrames(page, 10);
    await page.evaluate(() => window.__bench.start());
    const down = await scrollBy(page, SCROLL_STEP_PX, SCROLL_FRAMES);
    const downFrames = await page.evaluate(() => window.__bench.stop());
    maxRows = Math.max(maxRows, await rowsInDom(page));
    await page.evaluate(() => { const l = document.querySelector('.messages'); l.scrollTop = l.scrollHeight; });
    await waitFrames(page, 30);
    await page.evaluate(() => window.__bench.start());
    const up = await scrollBy(page, -SCROLL_STEP_PX, SCROLL_FRAMES);
    const upFrames = await page.evaluate(() => window.__bench.stop());
    maxRows = Math.max(maxRows, await rowsInDom(page));
    const scroll = frameFigures({ gaps: [...downFrames.gaps, ...upFrames.gaps], loaf: [...downFrames.loaf, ...upFrames.loaf] });
    row('scrolled', `${Math.round(down)} px down from the top, ${Math.round(up)} px up from the bottom, ${SCROLL_STEP_PX} px a frame`);
    const smooth = scroll.p99 <= REFRESH_MS * 1.5 && scroll.fps >= 59;
    row('frames while scrolling', describeFrames(scroll), '60 fps (p99 on time)', smooth);
    const scrolled = await memory(cdp);
    heapRow('heap after scrolling', scrolled);
    row('DOM nodes · most rows in the DOM', `${scrolled.nodes} · ${maxRows}`);

    // The burst: 100 agent messages within one second, at the bottom of the 10,000.
    await page.evaluate(() => { const l = document.querySelector('.messages'); l.scrollTop = l.scrollHeight; });
    await waitFrames(page, 30);
    await page.evaluate(() => window.__bench.start());
    if (process.env.BENCH_WIDGET_PROFILE) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    started = Date.now();
    const sends = [];
    for (let i = 1; i <= BURST; i++) {
      const due = started + ((i - 1) * BURST_SECONDS * 1000) / BURST;
      await sleep(Math.max(0, due - Date.now()));
      sends.push(agent('send_event', { chat_id: chatId, event: { type: 'message', text: `burst ${i}` } }));
    }
    await Promise.all(sends);
    const sentIn = Date.now() - started;
    await page.waitForFunction((text) => [...document.querySelectorAll('.message .text')].some((e) => e.textContent === text),
      `burst ${BURST}`, { timeout: 30_000, polling: 'raf' });
    const shownIn = Date.now() - started;
    await waitFrames(page, 30);
    const burst = frameFigures(await page.evaluate(() => window.__bench.stop()));
    if (process.env.BENCH_WIDGET_PROFILE) printProfile((await cdp.send('Profiler.stop')).profile);
    const atBottom = await page.evaluate(() => {
      const l = document.querySelector('.messages');
      return l.scrollHeight - l.scrollTop - l.clientHeight < 48;
    });
    row('burst', `${BURST} agent messages sent in ${(sentIn / 1000).toFixed(2)} s, the last shown after ${(shownIn / 1000).toFixed(2)} s${atBottom ? ', list at the bottom' : ', LIST NOT AT THE BOTTOM'}`);
    row('frames during the burst', describeFrames(burst), `no frame over ${BUDGET.frameMs} ms`, burst.over === 0 && atBottom);
    await context.close();
  } finally {
    await browser.close();
  }

  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length), ['figure', 'measured', 'budget', 'verdict'][c].length));
  const line = (cells) => '  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log(`Widget in Chromium (${HISTORY + 1} messages of history, a burst of ${BURST}):`);
  console.log(line(['figure', 'measured', 'budget', 'verdict']));
  console.log(line(widths.map((w) => '─'.repeat(w))));
  for (const r of rows) console.log(line(r));
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`widget.js: ${error.stack || error}`);
  process.exit(2);
});
