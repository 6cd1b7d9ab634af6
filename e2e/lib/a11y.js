// Accessibility checks with axe-core (pinned in package.json): run in one document (the host
// page, whose launcher lives in an open shadow root that axe walks, or the widget's frame),
// failing on any violation of impact `serious` or `critical`, listed readably.
const fs = require('fs');
const { expect } = require('@playwright/test');

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core'), 'utf8');
const FAILING_IMPACTS = ['serious', 'critical'];

/** Puts axe into `frame` (a Page or a Frame) once. */
async function injectAxe(frame) {
  if (await frame.evaluate(() => typeof window.axe?.run === 'function')) return;
  // The widget's CSP (`script-src 'self' 'wasm-unsafe-eval'`) refuses an inline <script>; there
  // axe is evaluated through the DevTools protocol instead, which the CSP does not govern,
  // rather than turning the CSP off (`bypassCSP` could also change what renders).
  await frame.addScriptTag({ content: AXE_SOURCE }).catch(() => frame.evaluate(AXE_SOURCE));
  expect(await frame.evaluate(() => typeof window.axe?.run)).toBe('function');
}

/** axe's serious and critical violations in `frame`, on the element `include` (a selector; the
 * whole document when omitted). Frames inside are left out: each document is checked on its
 * own, in its own origin. */
async function seriousViolations(frame, include) {
  await injectAxe(frame);
  const violations = await frame.evaluate(async (selector) => {
    const context = selector ? { include: [[selector]] } : document;
    const results = await window.axe.run(context, { iframes: false, resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        // A target inside a shadow root is a list: host, then the element within.
        target: n.target.map((t) => [].concat(t).join(' >>> ')).join(', '),
        html: n.html,
        summary: n.failureSummary ?? '',
      })),
    }));
  }, include ?? null);
  return violations.filter((v) => FAILING_IMPACTS.includes(v.impact));
}

/** One paragraph per violation: rule, impact, what it asks, and each element with why. */
function describeViolations(violations) {
  return violations.map((v) => [
    `${v.id} [${v.impact}]: ${v.help} (${v.helpUrl})`,
    ...v.nodes.map((n) => `    at ${n.target}\n      ${n.html}\n      ${n.summary.replace(/\n/g, '\n      ')}`),
  ].join('\n')).join('\n\n');
}

/** Fails (softly, so every document of a state is reported) on serious/critical violations in
 * `frame`, naming `where`. */
async function expectAccessible(frame, where, include) {
  const violations = await seriousViolations(frame, include);
  expect.soft(violations.length, `axe: ${where} has serious/critical violations:\n\n${describeViolations(violations)}\n`)
    .toBe(0);
}

module.exports = { expectAccessible, seriousViolations, describeViolations };
