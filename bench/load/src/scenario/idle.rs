//! `idle`: N logged-in idle customer sockets, and what they cost the server in memory.
//!
//! The server's resident memory (`VmRSS`, summed over its nodes) is read before the first
//! socket opens and again once all are logged in and the server has settled; the difference
//! over the sockets held is the cost of one idle customer: its socket task and buffers, its hub
//! entry, and whatever its token and login left in the heap. N is capped by what both
//! processes' open-files limits allow (one descriptor per socket on each side). `all` runs this
//! first, before other scenarios have grown the server's heap. Each socket belongs to a new
//! visitor, so opening them also measures token + socket + login per second.
//!
//! Memory an allocator keeps after the sockets close is not necessarily a leak: a second round
//! of N sockets follows, and if the resident memory then stays where the first round left it,
//! the memory was reused; if it grows by as much again, something per socket is never freed.

use super::{SETTLE, customer_budget};
use crate::cli::ScenarioArgs;
use crate::customer::{self, Customer, SETUP_CONCURRENCY};
use crate::report::Report;
use crate::stats::{mib, per_second, seconds};
use crate::target::Target;
use anyhow::Result;
use futures::StreamExt;
use std::time::{Duration, Instant};

const NAME: &str = "idle";
/// How long opening all the sockets of one round may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(180);

/// One round of sockets.
struct Round {
    held: Vec<Customer>,
    failures: Vec<anyhow::Error>,
    /// Sockets not even attempted when `OPEN_TIMEOUT` ran out.
    not_attempted: usize,
    opening: Duration,
}

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    let budget = customer_budget(target, 1)?;
    let n = args.idle_sockets.min(budget);
    let before = target.rss_kib()?;

    eprintln!("  opening {n} logged-in customer sockets");
    let first = open_round(target, n).await?;
    let held_first = target.rss_kib()?;
    let count = first.held.len();
    let asked = if n < args.idle_sockets {
        format!("{count} (asked {}; the fd limits allow {budget})", args.idle_sockets)
    } else {
        count.to_string()
    };
    report.add(NAME, "sockets held", asked);
    report.add(
        NAME,
        "opened (token + socket + login)",
        format!("{} in {}", per_second(count as u64, first.opening), seconds(first.opening)),
    );
    if let Some(error) = first.failures.first() {
        report.add(NAME, "failed to open", format!("{} (first: {error:#})", first.failures.len()));
    }
    if first.not_attempted > 0 {
        report.add(NAME, "not attempted", format!("{} (opening stopped after {OPEN_TIMEOUT:?})", first.not_attempted));
    }
    report.add(NAME, "server RSS before → all held", format!("{} → {}", mib(before), mib(held_first)));
    if count > 0 {
        let per_socket = held_first.saturating_sub(before) as f64 / count as f64;
        report.add(NAME, "server RSS per idle socket", format!("{per_socket:.1} KiB"));
    }
    drop(first);
    tokio::time::sleep(SETTLE).await;
    let closed_first = target.rss_kib()?;

    eprintln!("  a second round of {n} sockets");
    let second = open_round(target, n).await?;
    let held_second = target.rss_kib()?;
    let (count_second, failed_second) = (second.held.len(), second.failures.len() + second.not_attempted);
    drop(second);
    tokio::time::sleep(SETTLE).await;
    let closed_second = target.rss_kib()?;
    report.add(NAME, "server RSS after closing all", mib(closed_first));
    let failed = if failed_second > 0 { format!(" ({failed_second} failed)") } else { String::new() };
    report.add(
        NAME,
        "second round: sockets · RSS held → closed",
        format!("{count_second}{failed} · {} → {}", mib(held_second), mib(closed_second)),
    );
    Ok(())
}

/// Opens up to `n` logged-in sockets of new visitors, `SETUP_CONCURRENCY` at a time, and lets
/// the server settle.
async fn open_round(target: &Target, n: usize) -> Result<Round> {
    let http = customer::token_client()?;
    let started = Instant::now();
    let results: Vec<Result<Customer>> = futures::stream::iter(0..n)
        .map(|_| Customer::connect(&http, target))
        .buffer_unordered(SETUP_CONCURRENCY)
        .take_until(tokio::time::sleep(OPEN_TIMEOUT))
        .collect()
        .await;
    let opening = started.elapsed();
    let not_attempted = n - results.len();
    let (mut held, mut failures) = (Vec::with_capacity(results.len()), Vec::new());
    for result in results {
        match result {
            Ok(customer) => held.push(customer),
            Err(e) => failures.push(e),
        }
    }
    tokio::time::sleep(SETTLE).await;
    Ok(Round { held, failures, not_attempted, opening })
}
