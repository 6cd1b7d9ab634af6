//! `restart`: stop and start the server under N connected customers; how long until all are
//! logged in again, and how hard they knock while it is away.
//!
//! The customers are real Confab SDK clients (`confab_sdk::native::connect`), so reconnects
//! follow the SDK's own backoff (crates/sdk/src/core.rs): a jittered delay after the server's
//! goodbye (`customer_disconnected`, `service_temporarily_unavailable`), then a jittered,
//! doubling delay after each refused socket.
//!
//! The server is stopped gracefully (`--stop-cmd`, or SIGTERM), kept down for
//! `--restart-downtime-ms` (so the backoff is exercised, as in a deploy), and started
//! (`--start-cmd`). An attempt is counted at its outcome, the SDK's `Connected` or
//! `ConnectFailed` event: a refused connection fails at once, so that is also when it was made
//! (a login that succeeds is counted when its response arrives). Four figures show the backoff
//! at work: how the customers' first attempts after the goodbye spread, the peak attempt rate
//! over 1 s and over 100 ms (a herd shows as a 100 ms peak far above the 1 s one), the smallest
//! gap between two attempts of one customer, and the range of delays the SDK chose.

use super::customer_budget;
use crate::cli::ScenarioArgs;
use crate::report::Report;
use crate::stats::{duration, per_second, seconds};
use crate::target::Target;
use anyhow::{Context, Result, bail};
use confab_sdk::{ClientEvent, Config as SdkConfig, Events};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const NAME: &str = "restart";
/// SDK clients connecting at once.
const CONNECT_CONCURRENCY: usize = 64;
/// How long connecting all customers may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(180);
/// How long after the server is ready again all customers must be back.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// An SDK client holds two descriptors on each side: its socket and its keep-alive token
/// connection.
const FDS_PER_CUSTOMER: u64 = 2;
/// The windows the peak attempt rate is measured over.
const PEAK_WINDOWS: [Duration; 2] = [Duration::from_secs(1), Duration::from_millis(100)];

/// An SDK event, as far as this scenario cares.
enum Happened {
    Connected,
    Failed { retry_in: Duration },
    Disconnected { reason: String },
}

struct Seen {
    customer: usize,
    what: Happened,
    at: Instant,
}

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    target.can_restart()?;
    let budget = customer_budget(target, FDS_PER_CUSTOMER)?;
    let n = args.restart_customers.min(budget);
    if n == 0 {
        bail!("no customers to restart under (--restart-customers 0, or no fds to spare)");
    }

    eprintln!("  connecting {n} SDK customers");
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let started = Instant::now();
    let deadline = started + CONNECT_TIMEOUT;
    let mut clients = Vec::with_capacity(n);
    let mut connected = vec![false; n];
    let mut connected_count = 0;
    for customer in 0..n {
        while clients.len() - connected_count >= CONNECT_CONCURRENCY {
            connected_count += next_connected(&mut seen, &mut connected, deadline).await?;
        }
        let node = target.next_node();
        let (client, events) = confab_sdk::native::connect(SdkConfig::new(&node.url, &target.organization_id));
        tokio::spawn(forward(customer, events, seen_tx.clone()));
        clients.push(client);
    }
    while connected_count < n {
        connected_count += next_connected(&mut seen, &mut connected, deadline).await?;
    }
    let connecting = started.elapsed();
    let asked = if n < args.restart_customers {
        format!(" (asked {}; the fd limits allow {budget})", args.restart_customers)
    } else {
        String::new()
    };
    report.add(
        NAME,
        "customers (Confab SDK)",
        format!("{n}{asked}, connected in {} ({})", seconds(connecting), per_second(n as u64, connecting)),
    );

    eprintln!("  stopping the server, {} down, starting it", duration(Duration::from_millis(args.restart_downtime_ms)));
    let stop_at = Instant::now();
    target.stop().await.context("stopping the server")?;
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(args.restart_downtime_ms)).await;
    target.start().await.context("starting the server")?;
    let ready_at = Instant::now();

    let mut timeline = Timeline::new(n);
    let deadline = ready_at + RECONNECT_TIMEOUT;
    while timeline.back < n {
        match tokio::time::timeout_at(deadline.into(), seen.recv()).await {
            Ok(Some(event)) if event.at >= stop_at => timeline.add(event),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    for client in &clients {
        client.disconnect();
    }
    drop(clients);

    report.add(NAME, "graceful stop took", seconds(stopped_at - stop_at));
    report.add(NAME, "server away (stop → ready)", seconds(ready_at - stop_at));
    report.add(NAME, "goodbyes", timeline.goodbyes_text());
    report.add(NAME, "first attempt after the goodbye", timeline.first_attempt_delays());
    let last_back = timeline.back_at.iter().flatten().max().copied();
    let back = match last_back {
        Some(last) if timeline.back == n => {
            format!(
                "{} after the stop · {} after ready",
                seconds(last - stop_at),
                seconds(last.saturating_duration_since(ready_at))
            )
        }
        _ => format!("only {} of {n} within {} after ready", timeline.back, seconds(RECONNECT_TIMEOUT)),
    };
    report.add(NAME, "all logged in again", back);
    report.add(
        NAME,
        "reconnect attempts",
        format!(
            "{} ({} failed; at most {} by one customer)",
            timeline.attempts.len(),
            timeline.failed,
            timeline.most_by_one()
        ),
    );
    let peaks: Vec<String> =
        PEAK_WINDOWS.iter().map(|&w| format!("{:.0}/s over {}", timeline.peak_rate(w), duration(w))).collect();
    report.add(NAME, "peak attempts", peaks.join(" · "));
    let gap = timeline.min_gap.map(duration).unwrap_or_else(|| "– (one attempt each)".into());
    report.add(NAME, "smallest gap between one customer's attempts", gap);
    if let Some((low, high)) = timeline.retry_range {
        report.add(NAME, "retry delays the SDK chose", format!("{} – {}", duration(low), duration(high)));
    }
    Ok(())
}

/// Waits for the next event; returns 1 if it is a customer's first login, else 0.
async fn next_connected(
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    connected: &mut [bool],
    deadline: Instant,
) -> Result<usize> {
    match tokio::time::timeout_at(deadline.into(), seen.recv()).await {
        Ok(Some(Seen { customer, what: Happened::Connected, .. })) if !connected[customer] => {
            connected[customer] = true;
            Ok(1)
        }
        Ok(Some(_)) => Ok(0),
        Ok(None) => bail!("the SDK event streams ended"),
        Err(_) => bail!("not every customer connected within {CONNECT_TIMEOUT:?}"),
    }
}

/// Passes one SDK client's events on, stamped with the time they happened.
async fn forward(customer: usize, mut events: Events, seen: mpsc::UnboundedSender<Seen>) {
    while let Some(event) = events.next().await {
        let at = Instant::now();
        let what = match event {
            ClientEvent::Connected { .. } => Happened::Connected,
            ClientEvent::ConnectFailed { retry_in, .. } => Happened::Failed { retry_in },
            ClientEvent::Disconnected { reason, .. } => Happened::Disconnected { reason },
            _ => continue,
        };
        if seen.send(Seen { customer, what, at }).is_err() {
            return;
        }
    }
}

/// What happened after the stop.
struct Timeline {
    goodbyes: BTreeMap<String, u64>,
    goodbye_at: Vec<Option<Instant>>,
    /// Every attempt's outcome time, in arrival order.
    attempts: Vec<Instant>,
    failed: u64,
    attempts_by: Vec<u32>,
    first_attempt: Vec<Option<Instant>>,
    last_attempt: Vec<Option<Instant>>,
    min_gap: Option<Duration>,
    retry_range: Option<(Duration, Duration)>,
    back_at: Vec<Option<Instant>>,
    back: usize,
}

impl Timeline {
    fn new(n: usize) -> Self {
        Timeline {
            goodbyes: BTreeMap::new(),
            goodbye_at: vec![None; n],
            attempts: Vec::new(),
            failed: 0,
            attempts_by: vec![0; n],
            first_attempt: vec![None; n],
            last_attempt: vec![None; n],
            min_gap: None,
            retry_range: None,
            back_at: vec![None; n],
            back: 0,
        }
    }

    fn add(&mut self, Seen { customer, what, at }: Seen) {
        match what {
            Happened::Disconnected { reason } => {
                *self.goodbyes.entry(reason).or_insert(0) += 1;
                self.goodbye_at[customer].get_or_insert(at);
                return;
            }
            Happened::Failed { retry_in } => {
                self.failed += 1;
                let (low, high) = self.retry_range.get_or_insert((retry_in, retry_in));
                *low = (*low).min(retry_in);
                *high = (*high).max(retry_in);
            }
            Happened::Connected => {
                if self.back_at[customer].is_none() {
                    self.back_at[customer] = Some(at);
                    self.back += 1;
                }
            }
        }
        self.attempts.push(at);
        self.attempts_by[customer] += 1;
        self.first_attempt[customer].get_or_insert(at);
        if let Some(previous) = self.last_attempt[customer].replace(at) {
            let gap = at.saturating_duration_since(previous);
            self.min_gap = Some(self.min_gap.map_or(gap, |g| g.min(gap)));
        }
    }

    /// `service_temporarily_unavailable ×5000`.
    fn goodbyes_text(&self) -> String {
        if self.goodbyes.is_empty() {
            return "none".into();
        }
        self.goodbyes.iter().map(|(reason, n)| format!("{reason} ×{n}")).collect::<Vec<_>>().join(", ")
    }

    /// The spread of the delays from each customer's goodbye to its first attempt.
    fn first_attempt_delays(&self) -> String {
        let delays: Vec<Duration> = self
            .goodbye_at
            .iter()
            .zip(&self.first_attempt)
            .filter_map(|(goodbye, first)| Some(first.as_ref()?.saturating_duration_since(*goodbye.as_ref()?)))
            .collect();
        match (delays.iter().min(), delays.iter().max()) {
            (Some(&low), Some(&high)) => format!("{} – {} ({} customers)", duration(low), duration(high), delays.len()),
            _ => "–".into(),
        }
    }

    fn most_by_one(&self) -> u32 {
        self.attempts_by.iter().copied().max().unwrap_or(0)
    }

    /// The most attempts in any window of length `window`, per second.
    fn peak_rate(&self, window: Duration) -> f64 {
        let mut times = self.attempts.clone();
        times.sort_unstable();
        let (mut most, mut first) = (0, 0);
        for last in 0..times.len() {
            while times[last] - times[first] >= window {
                first += 1;
            }
            most = most.max(last - first + 1);
        }
        most as f64 / window.as_secs_f64()
    }
}
