// End-to-end through a cluster: nginx balancing two Confab nodes on one PostgreSQL database
// (scripts/demo-cluster.sh, on ports of its own), the demo website embedding the widget from
// nginx's origin. Debian's Chromium, as in playwright.config.js.
const { defineConfig } = require('@playwright/test');
const base = require('./playwright.config.js');

const PORT = 18580;
const SITE_PORT = 18581;
const NODE_A_PORT = 18582;
const NODE_B_PORT = 18583;
const PG_PORT = 18584;
const AGENT_TOKEN = 'e2e-cluster-agent-token';

process.env.CONFAB_E2E_API = `http://127.0.0.1:${PORT}`;
process.env.CONFAB_E2E_SITE = `http://127.0.0.1:${SITE_PORT}`;
process.env.CONFAB_E2E_NODES = `http://127.0.0.1:${NODE_A_PORT},http://127.0.0.1:${NODE_B_PORT}`;
process.env.CONFAB_E2E_AGENT_TOKEN = AGENT_TOKEN;

module.exports = defineConfig({
  ...base,
  testDir: 'cluster',
  outputDir: 'output/cluster-results',
  webServer: {
    command: 'cd .. && rm -rf e2e/output/cluster && ' +
      `CLUSTER_DIR=e2e/output/cluster CLUSTER_PORT=${PORT} CLUSTER_SITE_PORT=${SITE_PORT} ` +
      `CLUSTER_NODE_A_PORT=${NODE_A_PORT} CLUSTER_NODE_B_PORT=${NODE_B_PORT} CLUSTER_PG_PORT=${PG_PORT} ` +
      `CLUSTER_AGENT_TOKEN=${AGENT_TOKEN} CONFAB_SERVER=target/debug/confab-server scripts/demo-cluster.sh`,
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },
});
