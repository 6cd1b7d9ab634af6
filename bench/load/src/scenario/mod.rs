//! The scenarios, one file each, and what they share: how many customers a rate needs, how
//! many sockets the fd limits allow, and a set of live customers with chats.

mod ceiling;
mod idle;
mod kill9;
mod latency;
mod restart;
mod tokens;

use crate::cli::{Scenario, ScenarioArgs};
use crate::customer::{self, Live};
use crate::openloop::{Observation, RunResult};
use crate::process;
use crate::report::Report;
use crate::stats::{Quantile, per_second};
use crate::target::Target;
use anyhow::{Result, bail};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A pause between scenarios (and between ceiling steps), for the server to settle.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Each customer sends at most this many messages per second: half the server's per-socket
/// rate (10 frames/s, burst 30: `RTM_FRAMES_PER_SECOND` in crates/server/src/limits.rs), so
/// the rate limiter never answers in the server's place.
pub const MAX_SENDS_PER_CUSTOMER_PER_SECOND: u32 = 5;

/// File descriptors kept free, on each side, for everything but customer sockets (HTTP pools,
/// listeners, the database, stdio).
const FD_RESERVE: u64 = 256;

pub async fn run(scenario: Scenario, target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    match scenario {
        Scenario::Idle => idle::run(target, args, report).await,
        Scenario::Tokens => tokens::run(target, args, report).await,
        Scenario::Latency => latency::run(target, args, report).await,
        Scenario::Ceiling => ceiling::run(target, args, report).await,
        Scenario::Restart => restart::run(target, args, report).await,
        Scenario::Kill9 => kill9::run(target, args, report).await,
    }
}

/// Customers needed to send `rate` messages per second within the per-customer rate.
pub fn customers_for(rate: u32) -> usize {
    rate.div_ceil(MAX_SENDS_PER_CUSTOMER_PER_SECOND).max(1) as usize
}

/// How many customers both sides' open-files limits allow, when each customer holds
/// `fds_per_customer` descriptors in the tool and as many in the server (spread over the
/// customer nodes).
pub fn customer_budget(target: &Target, fds_per_customer: u64) -> Result<usize> {
    let tool = process::own_fd_limit()?.saturating_sub(FD_RESERVE) / fds_per_customer;
    let per_node = target.server_fd_limit()?.saturating_sub(FD_RESERVE) / fds_per_customer;
    let server = per_node.saturating_mul(target.nodes.len() as u64);
    Ok(tool.min(server) as usize)
}

/// `n` new customers, each with a chat, live; their observations come out of the receiver.
pub async fn live_customers(target: &Target, n: usize) -> Result<(Vec<Live>, mpsc::UnboundedReceiver<Observation>)> {
    let budget = customer_budget(target, 1)?;
    if n > budget {
        bail!("{n} customers are needed but the fd limits allow {budget} (raise `ulimit -n`)");
    }
    let started = Instant::now();
    let customers = customer::connect_with_chats(target, n).await?;
    eprintln!("  {n} customers with chats ready in {:.1} s", started.elapsed().as_secs_f64());
    let (observations_tx, observations) = mpsc::unbounded_channel();
    let live = customers.into_iter().map(|c| c.go_live(observations_tx.clone())).collect::<Result<Vec<_>>>()?;
    Ok((live, observations))
}

/// The server's CPU use over a span of wall time, as a percentage of one core.
pub struct CpuMeter<'a> {
    target: &'a Target,
    cpu: Duration,
    wall: Instant,
}

impl<'a> CpuMeter<'a> {
    pub fn start(target: &'a Target) -> Result<Self> {
        Ok(CpuMeter { target, cpu: target.cpu_time()?, wall: Instant::now() })
    }

    /// Since `start`: `143 %` (of one core).
    pub fn percent(&self) -> Result<String> {
        let cpu = self.target.cpu_time()?.saturating_sub(self.cpu);
        let wall = self.wall.elapsed().as_secs_f64().max(f64::EPSILON);
        Ok(format!("{:.0} %", 100.0 * cpu.as_secs_f64() / wall))
    }
}

/// `250/250 answered at 50/s · lost 0 · errors none · server CPU 40 % · tool lag p99 0.1 ms`.
pub fn run_detail(result: &RunResult, server_cpu: &str) -> String {
    let answered = result.latencies.count() + result.error_count();
    let lag = match result.lag.summary().p99 {
        Quantile::At(d) => crate::stats::duration(d),
        other => other.to_string(),
    };
    format!(
        "{answered}/{} answered at {} · lost {} · errors {} · server CPU {server_cpu} · tool lag p99 {lag}",
        result.scheduled,
        per_second(answered, result.elapsed.max(Duration::from_millis(1))),
        result.latencies.lost(),
        result.errors_text(),
    )
}
