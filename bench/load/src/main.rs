//! `confab-load`: load figures of a Confab deployment, printed as one table.
//!
//! # What it measures
//!
//! Each scenario is a subcommand; `all` runs them in this order and prints one table:
//!
//! 1. `idle`: N logged-in idle customer sockets; the server's resident memory before and after,
//!    and so its cost per socket.
//! 2. `tokens`: customer tokens per second, for new visitors (no cookies) and returning ones
//!    (with their cookies), with C concurrent HTTP clients for T seconds; p50/p99 latency.
//! 3. `latency`: customer `send_event` → its response, and agent `send_event` (Web API) → the
//!    customer socket's `incoming_event`, at fixed open-loop rates; p50/p99/max.
//! 4. `ceiling`: the customer send rate stepped up until send → response p99 passes a bound;
//!    the highest rate that held.
//! 5. `restart`: customers connected through the Confab SDK's native client, the server
//!    stopped and started; the time until all are logged in again and the reconnect rate.
//! 6. `kill9`: a send burst, `kill -9` in the middle, a restart; then every acknowledged message
//!    is looked up through the Agent Web API: present exactly once, missing or duplicated.
//!
//! `compare` prints the tables that several runs saved (`--tsv`) side by side, one column per
//! target: one SQLite node beside two nodes on PostgreSQL, say.
//!
//! # How it measures
//!
//! - **Raw sockets.** Tokens over HTTP (reqwest), the RTM socket over tokio-tungstenite, the
//!   Agent Web API over reqwest; frames are built and read with `confab-protocol`'s types. Only
//!   `restart` goes through the SDK, because its subject is the SDK's reconnect behaviour.
//! - **Open loop.** Send times are fixed before a run starts; each latency is measured from
//!   the time the message was *scheduled*, not from when it was written. A server that stalls
//!   cannot hold the sender back and so hide its own latency (coordinated omission); a message
//!   never answered counts as lost, and a percentile that falls among lost messages says so.
//! - **The target** is described on the command line: one or more nodes (customers connect to
//!   them round-robin), the node agents call, the agent token, and how to stop, kill and start
//!   the server. Only loopback addresses are accepted.
//! - **Bounded.** Every loop has a count and a deadline; every wait has a timeout. A scenario
//!   that fails reports its error as a row of the table and `all` goes on with the next one.
//! - **The machine.** The tool shares the CPU with the server it measures. Each open-loop run
//!   also reports the tool's own send lag, so a saturated tool shows itself.
//!
//! # Layout
//!
//! - `cli`: the command line. `target`: nodes, agent, server control. `process`: `/proc`,
//!   signals, fd limits.
//! - `customer`: a customer on raw sockets (token, socket, login, chat; writer and reader
//!   tasks under load). `agent`: the Agent Web API. `openloop`: schedules, observations,
//!   collection. `stats`: latency samples and rates. `report`: the table.
//! - `scenario/*`: one file per scenario.

mod agent;
mod cli;
mod customer;
mod openloop;
mod process;
mod report;
mod scenario;
mod stats;
mod target;

use clap::Parser;
use cli::{Cli, Command};
use report::Report;
use std::process::ExitCode;
use std::time::Duration;
use target::Target;

/// How long the target may take to answer /healthz before anything runs.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("confab-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Compare { columns } = &cli.command {
        let reports = columns.iter().map(|c| Report::read_column(c)).collect::<anyhow::Result<Vec<_>>>()?;
        Report::print_side_by_side(&reports);
        return Ok(ExitCode::SUCCESS);
    }

    let fd_limit = process::raise_fd_limit()?;
    let target = Target::from_args(&cli.target)?;
    eprintln!("confab-load: {} (fd limit {fd_limit})", target.describe());
    target.wait_ready(READY_TIMEOUT).await?;
    let mut report = Report::new(&cli.output.label);
    report.add("target", "nodes", target.describe_nodes());

    let mut failed = 0;
    for (i, scenario) in cli.command.scenarios().into_iter().enumerate() {
        if i > 0 {
            // Let the server settle (sockets closed, queues drained) before the next one.
            tokio::time::sleep(scenario::SETTLE).await;
        }
        eprintln!("confab-load: {} …", scenario.name());
        if let Err(e) = scenario::run(scenario, &target, &cli.scenarios, &mut report).await {
            eprintln!("confab-load: {} failed: {e:#}", scenario.name());
            report.add(scenario.name(), "error", format!("{e:#}"));
            failed += 1;
        }
    }

    report.print();
    if let Some(path) = &cli.output.tsv {
        report.write_tsv(path)?;
        eprintln!("confab-load: figures saved to {}", path.display());
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
