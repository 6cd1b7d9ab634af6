//! `ceiling`: the highest customer send rate the server sustains with send → response p99
//! within a bound (20 ms by default).
//!
//! The rate steps up through the given rates (200, 400, 800 … messages per second), a few
//! seconds each, open-loop, over enough customers for the highest step to stay under the
//! per-socket rate limit. A step holds when its p99 is within the bound and no message got an
//! error or went unanswered; the first step that does not hold ends the climb. A few more steps
//! then bisect the gap between the highest rate that held and the one that did not, so a
//! coarse ladder still gives a close figure. Before each step the server first answers what it
//! still owed from the last one, so an overloaded step's backlog does not spill over. The tool runs on the same cores as the server, so
//! each step also shows the server's CPU use and the tool's own send lag: a large lag means
//! the tool, not the server, was the limit.

use super::{CpuMeter, SETTLE, customers_for, live_customers, run_detail};
use crate::cli::ScenarioArgs;
use crate::customer::close_all;
use crate::openloop::{RunResult, Runner};
use crate::report::Report;
use crate::stats::duration;
use crate::target::Target;
use anyhow::{Result, bail};
use std::time::Duration;

const NAME: &str = "ceiling";
/// How long after a step the server may take to answer what it still owed (an overloaded
/// step's backlog), before the next step starts anyway.
const QUIESCE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    let Some(&max_rate) = args.ceiling_rates.iter().max() else { bail!("give at least one --ceiling-rates") };
    let bound = Duration::from_secs_f64(args.ceiling_p99_ms / 1_000.0);
    let length = Duration::from_secs_f64(args.ceiling_step_seconds);
    let n = customers_for(max_rate);
    let (customers, mut observations) = live_customers(target, n).await?;
    let mut runner = Runner::new(&customers, &mut observations);
    let mut step = Step { runner: &mut runner, target, length, bound, customers: n, first: true };

    let mut highest = None;
    let mut failed_at = None;
    for &rate in &args.ceiling_rates {
        if !step.run(rate, report).await? {
            failed_at = Some(rate);
            break;
        }
        highest = Some(rate);
    }
    if let (Some(mut low), Some(mut high)) = (highest, failed_at) {
        for _ in 0..args.ceiling_refine {
            let middle = low + (high - low) / 2;
            if middle == low {
                break;
            }
            if step.run(middle, report).await? {
                low = middle;
                highest = Some(middle);
            } else {
                high = middle;
            }
        }
        failed_at = Some(high);
    }

    let figure = format!("highest rate with p99 ≤ {}", duration(bound));
    let value = match (highest, failed_at) {
        (Some(rate), Some(failed)) => format!("{rate} msg/s ({failed} msg/s did not hold)"),
        (Some(rate), None) => {
            format!("≥ {rate} msg/s (every step held; try higher --ceiling-rates)")
        }
        (None, _) => format!("< {} msg/s (the first step did not hold)", args.ceiling_rates[0]),
    };
    report.add(NAME, figure, value);
    close_all(customers).await;
    Ok(())
}

/// Runs one step of the ladder and reports it.
struct Step<'r, 'a> {
    runner: &'r mut Runner<'a>,
    target: &'r Target,
    length: Duration,
    bound: Duration,
    customers: usize,
    first: bool,
}

impl Step<'_, '_> {
    /// Whether `rate` holds.
    async fn run(&mut self, rate: u32, report: &mut Report) -> Result<bool> {
        if !self.first {
            if !self.runner.quiesce(QUIESCE_TIMEOUT).await {
                report.add(
                    NAME,
                    format!("before {rate}/s"),
                    format!("the last step's backlog was not answered within {}", duration(QUIESCE_TIMEOUT)),
                );
            }
            tokio::time::sleep(SETTLE).await;
        }
        self.first = false;
        eprintln!("  {rate}/s for {:?} over {} customers", self.length, self.customers);
        let cpu = CpuMeter::start(self.target)?;
        let result = self.runner.customer_sends(rate, self.length).await;
        let server_cpu = cpu.percent()?;
        let held = holds(&result, self.bound);
        let verdict = if held { "holds" } else { "does not hold" };
        report.add(NAME, format!("send → ack @ {rate}/s"), format!("{} · {verdict}", result.latencies.summary()));
        report.add(NAME, format!("send → ack @ {rate}/s: run"), run_detail(&result, &server_cpu));
        Ok(held)
    }
}

/// p99 within the bound, no error, nothing lost.
fn holds(result: &RunResult, bound: Duration) -> bool {
    result.latencies.summary().p99.within(bound) && result.error_count() == 0 && result.latencies.lost() == 0
}
