// End-to-end tests in Debian's Chromium (never a downloaded browser) against the real server:
// the demo website on one origin, the widget and API on another.
const { defineConfig } = require('@playwright/test');

// The demo site is also reached as http://localhost:<site port>: another site than the API's
// 127.0.0.1, so the widget is a third party there (identity.spec.js).
// Ports may be moved (two runs side by side on one machine); the site is the next port.
const API_PORT = Number(process.env.CONFAB_E2E_API_PORT || 18480);
const SITE_PORT = API_PORT + 1;
const AGENT_TOKEN = 'e2e-agent-token';
// A second agent (agents.json, offline until a spec says otherwise), for transfers.
const SECOND_AGENT_TOKEN = 'e2e-second-agent-token';

process.env.CONFAB_E2E_API = `http://127.0.0.1:${API_PORT}`;
process.env.CONFAB_E2E_SITE = `http://127.0.0.1:${SITE_PORT}`;
process.env.CONFAB_E2E_AGENT_TOKEN = AGENT_TOKEN;
process.env.CONFAB_E2E_SECOND_AGENT_TOKEN = SECOND_AGENT_TOKEN;

module.exports = defineConfig({
  testDir: 'tests',
  outputDir: 'output/test-results',
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    // A fresh database every run; the debug build that `make test` has just built. Link
    // previews may read 127.0.0.1 only because the demo site they preview is served there.
    command: `rm -rf output/data-${API_PORT} && ../target/debug/confab-server --listen 127.0.0.1:${API_PORT} ` +
      `--site-listen 127.0.0.1:${SITE_PORT} --data-dir output/data-${API_PORT} --agent-token ${AGENT_TOKEN} --allowed-origin http://localhost:${SITE_PORT} --agents-file agents.json --groups-file groups.json --greetings-file greetings.json --url-info-allow-private 127.0.0.1 ` +
      `--widget-dir ../dist/widget`,
    url: `http://127.0.0.1:${API_PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 20_000,
    stdout: 'pipe',
  },
});
