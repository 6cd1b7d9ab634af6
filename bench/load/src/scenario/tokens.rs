//! `tokens`: customer tokens per second from the cookie grant, for two kinds of visitor:
//!
//! - **new**: no cookies; every grant creates a customer (and its identity cookies).
//! - **returning**: the cookies of an earlier grant; every grant finds the customer again.
//!
//! C concurrent clients (each with its own keep-alive connection, on the nodes round-robin)
//! ask back to back for T seconds; this is a throughput measure, so it is closed-loop on
//! purpose. A returning visitor whose customer id changes counts as an error.

use crate::cli::ScenarioArgs;
use crate::customer::fetch_token;
use crate::report::Report;
use crate::stats::{Latencies, per_second};
use crate::target::{Node, Target};
use anyhow::{Context, Result, bail};
use std::fmt;
use std::time::{Duration, Instant};

const NAME: &str = "tokens";
/// A bound on grants per client, beyond the time bound.
const MAX_GRANTS_PER_CLIENT: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visitor {
    New,
    Returning,
}

impl fmt::Display for Visitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Visitor::New => "new visitors",
            Visitor::Returning => "returning visitors",
        })
    }
}

/// One client's tally.
#[derive(Default)]
struct Tally {
    latencies: Latencies,
    errors: u64,
    first_error: Option<String>,
}

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    if args.token_clients == 0 || args.token_seconds <= 0.0 {
        bail!("--token-clients and --token-seconds must be positive");
    }
    let duration = Duration::from_secs_f64(args.token_seconds);
    for visitor in [Visitor::New, Visitor::Returning] {
        eprintln!("  {visitor}: {} clients for {duration:?}", args.token_clients);
        let started = Instant::now();
        let deadline = started + duration;
        let clients = (0..args.token_clients)
            .map(|_| client(target.next_node().clone(), &target.organization_id, visitor, deadline));
        let tallies = futures::future::try_join_all(clients).await?;
        let elapsed = started.elapsed();
        let mut all = Latencies::new();
        let (mut errors, mut first_error) = (0, None);
        for tally in tallies {
            all.merge(&tally.latencies);
            errors += tally.errors;
            first_error = first_error.or(tally.first_error);
        }
        let rate = per_second(all.count(), elapsed);
        report.add(NAME, visitor.to_string(), format!("{rate} · {} · {} clients", all.summary(), args.token_clients));
        if let Some(first) = first_error {
            report.add(NAME, format!("{visitor}: errors"), format!("{errors} (first: {first})"));
        }
    }
    Ok(())
}

/// One client asking for tokens back to back until `deadline`.
async fn client(node: Node, organization_id: &str, visitor: Visitor, deadline: Instant) -> Result<Tally> {
    let http = reqwest::Client::builder()
        .cookie_store(visitor == Visitor::Returning)
        .timeout(crate::customer::REQUEST_TIMEOUT)
        .build()
        .context("building an HTTP client")?;
    // A returning visitor was here before: its first grant (untimed) sets the cookies.
    let known_id = match visitor {
        Visitor::Returning => Some(
            fetch_token(&http, &node, organization_id).await.context("the returning visitor's first grant")?.entity_id,
        ),
        Visitor::New => None,
    };
    let mut tally = Tally::default();
    let mut grants = 0;
    while Instant::now() < deadline && grants < MAX_GRANTS_PER_CLIENT {
        grants += 1;
        let asked = Instant::now();
        let outcome = match fetch_token(&http, &node, organization_id).await {
            Ok(token) if known_id.as_ref().is_some_and(|id| *id != token.entity_id) => {
                Err(format!("returning visitor got a new customer id {}", token.entity_id))
            }
            Ok(_) => Ok(asked.elapsed()),
            Err(e) => Err(format!("{e:#}")),
        };
        match outcome {
            Ok(latency) => tally.latencies.record(latency),
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    Ok(tally)
}
