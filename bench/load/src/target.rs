//! The target: the nodes customers connect to (round-robin), the node agents call, the agent
//! token, and the server's control (stop gracefully, kill, start).
//!
//! Only loopback addresses are accepted: this tool opens thousands of sockets and kills
//! processes, so it must never be pointed at a machine other than its own.
//!
//! Control is by shell command when one is given (`--stop-cmd`, `--kill-cmd`, `--start-cmd`),
//! else by signal to the server's pid: the one given with `--server-pid` until the first
//! restart, else the process found listening on the node's port.

use crate::cli::TargetArgs;
use crate::process;
use anyhow::{Context, Result, anyhow, bail};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a graceful stop may take: the server's own shutdown grace (5 s, `SHUTDOWN_GRACE`
/// in crates/server/src/limits.rs) plus margin.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a killed process may take to disappear.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a start may take until every node answers /healthz.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one /healthz request may take, and how often it is retried.
const HEALTH_REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
const HEALTH_POLL: Duration = Duration::from_millis(25);
/// How long after a stop command the nodes' ports may still be held.
const PORT_RELEASE_TIMEOUT: Duration = Duration::from_secs(10);

/// One server node, by its HTTP origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `http://127.0.0.1:8080`, no trailing slash.
    pub url: String,
    pub addr: SocketAddr,
}

impl Node {
    /// Parses `http://HOST:PORT` where HOST is a loopback address or `localhost`.
    pub fn parse(url: &str) -> Result<Node> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("node URL {url}"))?;
        if parsed.scheme() != "http" {
            bail!("node {url}: only http:// is supported (loopback targets need no TLS)");
        }
        let host = parsed.host_str().ok_or_else(|| anyhow!("node {url}: no host"))?;
        let ip = match host.trim_start_matches('[').trim_end_matches(']') {
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            literal => literal
                .parse::<IpAddr>()
                .with_context(|| format!("node {url}: the host must be an IP address or localhost"))?,
        };
        if !ip.is_loopback() {
            bail!("node {url}: only loopback addresses may be targeted");
        }
        let port = parsed.port_or_known_default().ok_or_else(|| anyhow!("node {url}: no port"))?;
        let addr = SocketAddr::new(ip, port);
        Ok(Node { url: format!("http://{addr}"), addr })
    }

    pub fn token_url(&self) -> String {
        format!("{}/v2/customer/token", self.url)
    }

    pub fn socket_url(&self, organization_id: &str) -> String {
        format!("ws://{}/v3.5/customer/rtm/ws?organization_id={organization_id}", self.addr)
    }

    pub fn agent_url(&self, action: &str) -> String {
        format!("{}/v3.6/agent/action/{action}", self.url)
    }

    fn health_url(&self) -> String {
        format!("{}/healthz", self.url)
    }
}

pub struct Target {
    /// Where customers connect, round-robin.
    pub nodes: Vec<Node>,
    /// Where agents call.
    pub agent_node: Node,
    pub organization_id: String,
    agent_token: Option<String>,
    /// `--server-pid`s, by server node; forgotten at the first restart.
    given_pids: Mutex<Vec<u32>>,
    start_cmd: Option<String>,
    stop_cmd: Option<String>,
    kill_cmd: Option<String>,
    next_node: AtomicUsize,
    health: reqwest::Client,
}

impl Target {
    pub fn from_args(args: &TargetArgs) -> Result<Self> {
        let nodes = args.nodes.iter().map(|u| Node::parse(u)).collect::<Result<Vec<_>>>()?;
        let last = nodes.last().cloned().ok_or_else(|| anyhow!("give at least one --node"))?;
        let agent_node = match &args.agent_node {
            Some(url) => Node::parse(url)?,
            None => last,
        };
        let health =
            reqwest::Client::builder().timeout(HEALTH_REQUEST_TIMEOUT).build().context("building an HTTP client")?;
        Ok(Self {
            nodes,
            agent_node,
            organization_id: args.organization_id.clone(),
            agent_token: args.agent_token.clone(),
            given_pids: Mutex::new(args.server_pids.clone()),
            start_cmd: args.start_cmd.clone(),
            stop_cmd: args.stop_cmd.clone(),
            kill_cmd: args.kill_cmd.clone(),
            next_node: AtomicUsize::new(0),
            health,
        })
    }

    /// One line: the nodes, and where agents call.
    pub fn describe(&self) -> String {
        format!("target {}", self.describe_nodes())
    }

    pub fn describe_nodes(&self) -> String {
        let nodes: Vec<&str> = self.nodes.iter().map(|n| n.url.as_str()).collect();
        let plural = if nodes.len() == 1 { "" } else { "s" };
        format!("{} node{plural} {}; agents via {}", nodes.len(), nodes.join(" "), self.agent_node.url)
    }

    /// The node the next customer connects to.
    pub fn next_node(&self) -> &Node {
        let i = self.next_node.fetch_add(1, Ordering::Relaxed);
        &self.nodes[i % self.nodes.len()]
    }

    pub fn agent_token(&self) -> Result<&str> {
        self.agent_token.as_deref().ok_or_else(|| anyhow!("this scenario calls the Agent Web API: give --agent-token"))
    }

    /// Every distinct server node: the customer nodes, then the agent node if it is another.
    pub fn servers(&self) -> Vec<&Node> {
        let mut servers: Vec<&Node> = Vec::new();
        for node in self.nodes.iter().chain(std::iter::once(&self.agent_node)) {
            if !servers.iter().any(|s| s.addr == node.addr) {
                servers.push(node);
            }
        }
        servers
    }

    /// The pid of each server node, in `servers()` order.
    pub fn server_pids(&self) -> Result<Vec<u32>> {
        let given = self.given_pids.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.servers()
            .iter()
            .enumerate()
            .map(|(i, node)| match given.get(i) {
                Some(&pid) if process::is_running(pid) => Ok(pid),
                Some(&pid) => bail!("--server-pid {pid} is not running"),
                None => process::pid_listening_on(node.addr.port())?.ok_or_else(|| {
                    anyhow!("no process of ours listens on port {} (give --server-pid)", node.addr.port())
                }),
            })
            .collect()
    }

    /// The server's resident memory, in KiB, summed over the nodes.
    pub fn rss_kib(&self) -> Result<u64> {
        self.server_pids()?.into_iter().map(process::rss_kib).sum()
    }

    /// CPU time the server has used so far, summed over the nodes.
    pub fn cpu_time(&self) -> Result<Duration> {
        self.server_pids()?.into_iter().map(process::cpu_time).sum()
    }

    /// The smallest open-files limit among the server processes.
    pub fn server_fd_limit(&self) -> Result<u64> {
        let limits = self.server_pids()?.into_iter().map(process::fd_limit_of).collect::<Result<Vec<_>>>()?;
        Ok(limits.into_iter().min().unwrap_or(u64::MAX))
    }

    /// Whether restart and kill9 can run: a start command is needed.
    pub fn can_restart(&self) -> Result<()> {
        match self.start_cmd {
            Some(_) => Ok(()),
            None => bail!("this scenario stops and starts the server: give --start-cmd"),
        }
    }

    /// Stops the server gracefully and waits until it is gone.
    pub async fn stop(&self) -> Result<()> {
        self.halt(self.stop_cmd.as_deref(), libc::SIGTERM, STOP_TIMEOUT).await
    }

    /// Kills the server at once (SIGKILL) and waits until it is gone.
    pub async fn kill(&self) -> Result<()> {
        self.halt(self.kill_cmd.as_deref(), libc::SIGKILL, KILL_TIMEOUT).await
    }

    /// Ends the server: by `cmd` when one is given, else by `signal` to each node's pid; then
    /// waits, at most `timeout`, until it is gone.
    async fn halt(&self, cmd: Option<&str>, signal: libc::c_int, timeout: Duration) -> Result<()> {
        match cmd {
            Some(cmd) => {
                run_to_end(cmd, timeout).await?;
                self.wait_ports_released().await?;
            }
            None => {
                let pids = self.server_pids()?;
                for &pid in &pids {
                    process::signal(pid, signal)?;
                }
                for pid in pids {
                    process::wait_exit(pid, timeout).await?;
                }
            }
        }
        self.forget_given_pids();
        Ok(())
    }

    /// Runs the start command and waits until every node answers /healthz.
    pub async fn start(&self) -> Result<()> {
        let cmd = self.start_cmd.as_deref().ok_or_else(|| anyhow!("give --start-cmd"))?;
        let mut child = shell(cmd).spawn().with_context(|| format!("starting `{cmd}`"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        // A command that starts the server in the background returns; one that runs it in the
        // foreground does not, and need not.
        let mut returned = false;
        loop {
            if self.all_healthy().await {
                return Ok(());
            }
            if !returned && let Some(status) = child.try_wait().context("waiting for the start command")? {
                if !status.success() {
                    bail!("`{cmd}` failed: {status}");
                }
                returned = true;
            }
            if Instant::now() >= deadline {
                bail!("the server did not answer /healthz within {START_TIMEOUT:?} of `{cmd}`");
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
    }

    /// Waits until every node answers /healthz, at most `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.all_healthy().await {
            if Instant::now() >= deadline {
                bail!("the server did not answer /healthz within {timeout:?}");
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
        Ok(())
    }

    async fn all_healthy(&self) -> bool {
        for node in self.servers() {
            match self.health.get(node.health_url()).send().await {
                Ok(response) if response.status().is_success() => {}
                _ => return false,
            }
        }
        true
    }

    async fn wait_ports_released(&self) -> Result<()> {
        let deadline = Instant::now() + PORT_RELEASE_TIMEOUT;
        for node in self.servers() {
            while process::pid_listening_on(node.addr.port())?.is_some() {
                if Instant::now() >= deadline {
                    bail!(
                        "port {} still listened on {PORT_RELEASE_TIMEOUT:?} after the stop command",
                        node.addr.port()
                    );
                }
                tokio::time::sleep(HEALTH_POLL).await;
            }
        }
        Ok(())
    }

    fn forget_given_pids(&self) {
        self.given_pids.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// `sh -c CMD`, its output on our stderr (stdout carries the table).
fn shell(cmd: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg(cmd).stdin(Stdio::null()).stdout(std::io::stderr()).stderr(std::io::stderr());
    command
}

/// Runs `cmd` to its end, at most `timeout`; a failure is an error.
async fn run_to_end(cmd: &str, timeout: Duration) -> Result<()> {
    let mut child = shell(cmd).kill_on_drop(true).spawn().with_context(|| format!("running `{cmd}`"))?;
    let status = tokio::time::timeout(timeout, child.wait())
        .await
        .map_err(|_| anyhow!("`{cmd}` still running after {timeout:?}"))?
        .with_context(|| format!("waiting for `{cmd}`"))?;
    if !status.success() {
        bail!("`{cmd}` failed: {status}");
    }
    Ok(())
}
