//! The command line: `confab-load [OPTIONS] <SCENARIO>`. Options may come before or after the
//! scenario. Each scenario's options carry its name (`--idle-sockets`, `--ceiling-rates`), so
//! `all` takes every one of them without ambiguity.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The organization the server serves when started without `--organization-id` (the
/// server's `DEMO_ORGANIZATION_ID`, crates/server/src/config.rs).
pub const DEMO_ORGANIZATION_ID: &str = "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b";

#[derive(Debug, Parser)]
#[command(
    name = "confab-load",
    version,
    about = "Load figures of a Confab deployment, printed as one table.",
    long_about = "Load figures of a Confab deployment, printed as one table.\n\n\
        Runs one scenario, or `all` of them in order, against the nodes given with --node \
        (loopback only). Latencies are measured open-loop: from each message's scheduled send time.\n\n\
        `restart` and `kill9` stop and start the server: give --start-cmd (and --stop-cmd / \
        --kill-cmd, or let the tool signal the pids it finds on the nodes' ports)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub scenarios: ScenarioArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// N logged-in idle customer sockets: the server's resident memory per socket.
    Idle,
    /// Customer tokens per second, new and returning visitors, with p50/p99 latency.
    Tokens,
    /// send_event → response, and agent send_event → customer push, at fixed rates.
    Latency,
    /// The highest customer send rate whose send → response p99 stays within the bound.
    Ceiling,
    /// Stop and start the server under SDK customers: time until all are back, reconnect rate.
    Restart,
    /// kill -9 during a send burst: is every acknowledged message stored exactly once?
    Kill9,
    /// Every scenario in order, one table.
    All,
    /// Print saved tables (`--tsv`) side by side: LABEL=FILE or FILE, one per column.
    Compare {
        #[arg(required = true, value_name = "LABEL=FILE")]
        columns: Vec<String>,
    },
}

/// One measurement, as `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Idle,
    Tokens,
    Latency,
    Ceiling,
    Restart,
    Kill9,
}

impl Scenario {
    /// The order of `all`: memory first, before any other scenario has grown the heap; the
    /// destructive ones last.
    pub const IN_ORDER: [Scenario; 6] =
        [Scenario::Idle, Scenario::Tokens, Scenario::Latency, Scenario::Ceiling, Scenario::Restart, Scenario::Kill9];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Idle => "idle",
            Scenario::Tokens => "tokens",
            Scenario::Latency => "latency",
            Scenario::Ceiling => "ceiling",
            Scenario::Restart => "restart",
            Scenario::Kill9 => "kill9",
        }
    }
}

impl Command {
    /// The scenarios this command runs (none for `compare`).
    pub fn scenarios(&self) -> Vec<Scenario> {
        match self {
            Command::Idle => vec![Scenario::Idle],
            Command::Tokens => vec![Scenario::Tokens],
            Command::Latency => vec![Scenario::Latency],
            Command::Ceiling => vec![Scenario::Ceiling],
            Command::Restart => vec![Scenario::Restart],
            Command::Kill9 => vec![Scenario::Kill9],
            Command::All => Scenario::IN_ORDER.to_vec(),
            Command::Compare { .. } => Vec::new(),
        }
    }
}

/// What to measure: the nodes, the agent, and how to stop and start the server.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// A node's HTTP URL (repeatable). Customers connect to the nodes round-robin.
    #[arg(long = "node", global = true, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub nodes: Vec<String>,

    /// The node agents call. Default: the last --node. With `--node A --node B`, the customers
    /// on A get agents' pushes across nodes; with `--node A --agent-node B`, all of them do.
    #[arg(long, global = true, value_name = "URL")]
    pub agent_node: Option<String>,

    /// The agent access token (the server's --agent-token). Needed by latency and kill9.
    #[arg(long, global = true, env = "CONFAB_AGENT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub agent_token: Option<String>,

    /// The organization the server serves (its --organization-id).
    #[arg(long, global = true, value_name = "UUID", default_value = DEMO_ORGANIZATION_ID)]
    pub organization_id: String,

    /// The pid of each node's server (repeatable), in the order of the distinct nodes: the
    /// --node URLs, then --agent-node if it is another. Default: the process that listens on
    /// the node's port. After a restart the tool always looks them up by port.
    #[arg(long = "server-pid", global = true, value_name = "PID")]
    pub server_pids: Vec<u32>,

    /// Shell command that starts the server(s) (run with `sh -c`). The tool goes on once every
    /// node answers /healthz, whether or not the command has returned. Needed by restart, kill9.
    #[arg(long, global = true, value_name = "CMD")]
    pub start_cmd: Option<String>,

    /// Shell command that stops the server(s) gracefully. Default: SIGTERM to each node's pid,
    /// then wait for it to exit.
    #[arg(long, global = true, value_name = "CMD")]
    pub stop_cmd: Option<String>,

    /// Shell command that kills the server(s) at once. Default: SIGKILL to each node's pid.
    #[arg(long, global = true, value_name = "CMD")]
    pub kill_cmd: Option<String>,
}

/// Every scenario's options; defaults give a full run in a few minutes on two cores.
#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// idle: sockets to open (capped by the tool's and the server's fd limits).
    #[arg(long, global = true, default_value_t = 10_000, value_name = "N")]
    pub idle_sockets: usize,

    /// tokens: concurrent HTTP clients.
    #[arg(long, global = true, default_value_t = 16, value_name = "C")]
    pub token_clients: usize,
    /// tokens: seconds per kind of visitor (new, returning).
    #[arg(long, global = true, default_value_t = 5.0, value_name = "SECONDS")]
    pub token_seconds: f64,

    /// latency: messages per second, one run per rate and direction.
    #[arg(long, global = true, value_delimiter = ',', default_value = "50,200", value_name = "RATES")]
    pub latency_rates: Vec<u32>,
    /// latency: seconds per run (10 s at 50/s: 500 messages, so p99 is the 5th slowest).
    #[arg(long, global = true, default_value_t = 10.0, value_name = "SECONDS")]
    pub latency_seconds: f64,

    /// ceiling: the customer send rates to step through, in order (messages per second).
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "200,400,800,1600,3200,6400",
        value_name = "RATES"
    )]
    pub ceiling_rates: Vec<u32>,
    /// ceiling: seconds per step.
    #[arg(long, global = true, default_value_t = 3.0, value_name = "SECONDS")]
    pub ceiling_step_seconds: f64,
    /// ceiling: after the first step that does not hold, this many more steps halve the gap
    /// between it and the highest that held.
    #[arg(long, global = true, default_value_t = 2, value_name = "N")]
    pub ceiling_refine: u32,
    /// ceiling: a step holds when send → response p99 is at most this (and nothing is lost).
    #[arg(long, global = true, default_value_t = 20.0, value_name = "MS")]
    pub ceiling_p99_ms: f64,

    /// restart: customers connected through the SDK (capped by the fd limits).
    #[arg(long, global = true, default_value_t = 5_000, value_name = "N")]
    pub restart_customers: usize,
    /// restart: how long the server stays down between stop and start.
    #[arg(long, global = true, default_value_t = 2_000, value_name = "MS")]
    pub restart_downtime_ms: u64,

    /// kill9: customers sending (at least enough for the rate).
    #[arg(long, global = true, default_value_t = 100, value_name = "N")]
    pub kill9_customers: usize,
    /// kill9: messages per second of the burst.
    #[arg(long, global = true, default_value_t = 400, value_name = "RATE")]
    pub kill9_rate: u32,
    /// kill9: the burst's length, if the kill did not end it.
    #[arg(long, global = true, default_value_t = 4.0, value_name = "SECONDS")]
    pub kill9_seconds: f64,
    /// kill9: when the server is killed, from the start of the burst.
    #[arg(long, global = true, default_value_t = 2_000, value_name = "MS")]
    pub kill9_after_ms: u64,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The column title of this target in the table.
    #[arg(long, global = true, default_value = "target", value_name = "NAME")]
    pub label: String,
    /// Also save the figures as TSV (for `compare`).
    #[arg(long, global = true, value_name = "FILE")]
    pub tsv: Option<PathBuf>,
}
