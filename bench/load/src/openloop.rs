//! Open-loop load, so that a slow server cannot hide its latency (coordinated omission).
//!
//! A run is a [`Schedule`]: `count` messages at `rate` per second, message `i` due at
//! `start + i / rate` and sent by customer `i mod n`, so each customer sends at `rate / n`,
//! evenly spaced. The driver hands each message over at its due time and never waits for an
//! answer; if the tool itself falls behind, it catches up at once and reports its lag. Every
//! latency is measured from the message's *due* time to the moment its answer was read, so
//! time a message spent queued behind a stalled server is counted, not skipped.
//!
//! Messages carry a [`Tag`] (run and index) as their `request_id` and `custom_id`. Reader
//! tasks turn frames into [`Observation`]s; the collector matches them to the run and stops
//! when every message is answered, when every socket has closed, or `DRAIN_TIMEOUT` after the
//! last due time. A message without an answer by then is lost.

use crate::agent::Agent;
use crate::customer::{Live, MESSAGE_TEXT};
use crate::stats::Latencies;
use confab_protocol::Event;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A run starts this long after it is scheduled, so that scheduling itself is not timed.
const LEAD: Duration = Duration::from_millis(20);
/// tokio's timers tick in whole milliseconds, rounded up, so sleeping right up to a due time
/// would make every message up to a tick late. The driver sleeps until this much before a due
/// time and yields (lets other tasks run) until it.
const TIMER_SLACK: Duration = Duration::from_millis(1);
/// How long after the last due time answers are still awaited.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Identifies one message: `r<run>-<index>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub run: u32,
    pub index: u64,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}-{}", self.run, self.index)
    }
}

impl FromStr for Tag {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (run, index) = s.strip_prefix('r').and_then(|rest| rest.split_once('-')).ok_or(())?;
        Ok(Tag { run: run.parse().map_err(|_| ())?, index: index.parse().map_err(|_| ())? })
    }
}

/// What a customer's reader saw.
#[derive(Debug, Clone)]
pub enum Observation {
    /// The response to our `send_event` `tag`: success, or the error type.
    Acked { tag: Tag, at: Instant, error: Option<String> },
    /// An `incoming_event` from someone else carrying `tag` (an agent's message).
    Delivered { tag: Tag, at: Instant },
    /// The socket ended.
    Closed,
}

/// When each message of a run is due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: Instant,
    rate: f64,
    count: u64,
}

impl Schedule {
    /// `rate` messages per second for `duration`, starting now (after `LEAD`).
    pub fn new(rate: u32, duration: Duration) -> Schedule {
        let count = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
        Schedule { start: Instant::now() + LEAD, rate: f64::from(rate.max(1)), count }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn due(&self, index: u64) -> Instant {
        self.start + Duration::from_secs_f64(index as f64 / self.rate)
    }

    /// When the last message is due.
    pub fn end(&self) -> Instant {
        self.due(self.count.saturating_sub(1))
    }
}

/// Hands message `i` to `send` at its due time, late ones at once. Stops early once `send` has
/// failed `give_up_after` times in a row (every socket is gone). Returns the tool's send lag.
async fn drive(schedule: &Schedule, give_up_after: u64, mut send: impl FnMut(u64) -> bool) -> Latencies {
    let mut lag = Latencies::new();
    let mut failed_in_a_row = 0;
    let mut index = 0;
    while index < schedule.count() && failed_in_a_row < give_up_after.max(1) {
        let due = schedule.due(index);
        let now = Instant::now();
        if due > now {
            if due - now > TIMER_SLACK {
                tokio::time::sleep_until((due - TIMER_SLACK).into()).await;
            } else {
                tokio::task::yield_now().await;
            }
            continue;
        }
        lag.record(now - due);
        failed_in_a_row = if send(index) { 0 } else { failed_in_a_row + 1 };
        index += 1;
    }
    lag
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run's number, the `r<run>` of its tags.
    pub run: u32,
    pub rate: u32,
    pub scheduled: u64,
    /// Successful answers (and the lost, which had none).
    pub latencies: Latencies,
    /// Indexes answered with success.
    pub acked: Vec<u64>,
    /// Error answers, by error type.
    pub errors: BTreeMap<String, u64>,
    /// How late the tool handed messages over (its own saturation).
    pub lag: Latencies,
    /// From the run's start to its last answer.
    pub elapsed: Duration,
}

impl RunResult {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// `none`, or `too_many_requests ×3, internal ×1`.
    pub fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors.iter().map(|(kind, n)| format!("{kind} ×{n}")).collect::<Vec<_>>().join(", ")
    }
}

/// What a run waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Responses to customers' `send_event`.
    Acks,
    /// `incoming_event` pushes of agents' messages.
    Deliveries,
}

/// Runs open-loop load over a set of live customers, one run after another.
pub struct Runner<'a> {
    customers: &'a [Live],
    observations: &'a mut mpsc::UnboundedReceiver<Observation>,
    next_run: u32,
    /// The last customer run and how many of its messages were still unanswered.
    unanswered: Option<(u32, u64)>,
}

impl<'a> Runner<'a> {
    pub fn new(customers: &'a [Live], observations: &'a mut mpsc::UnboundedReceiver<Observation>) -> Self {
        Runner { customers, observations, next_run: 1, unanswered: None }
    }

    /// Waits, at most `timeout`, until the server has answered the messages of the last run
    /// that were still unanswered when it ended, so that an overloaded step's backlog does not
    /// spill into the next one. Returns whether it did.
    pub async fn quiesce(&mut self, timeout: Duration) -> bool {
        let Some((run, mut unanswered)) = self.unanswered.take() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        while unanswered > 0 {
            match tokio::time::timeout_at(deadline.into(), self.observations.recv()).await {
                Ok(Some(Observation::Acked { tag, .. })) if tag.run == run => unanswered -= 1,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return false,
            }
        }
        true
    }

    fn next_run(&mut self) -> u32 {
        self.next_run += 1;
        self.next_run - 1
    }

    /// Customers send `rate` messages per second for `duration`; latency until each response.
    pub async fn customer_sends(&mut self, rate: u32, duration: Duration) -> RunResult {
        self.customer_sends_while(rate, duration, |_| async {}).await.0
    }

    /// `customer_sends`, with `during` run alongside from the start (kill9 kills the server in
    /// it); returns its output too.
    pub async fn customer_sends_while<F: Future>(
        &mut self,
        rate: u32,
        duration: Duration,
        during: impl FnOnce(Schedule) -> F,
    ) -> (RunResult, F::Output) {
        let run = self.next_run();
        let schedule = Schedule::new(rate, duration);
        let customers = self.customers;
        let n = customers.len() as u64;
        let sender = drive(&schedule, n, |index| customers[(index % n) as usize].send(Tag { run, index }));
        let collector = collect(self.observations, run, &schedule, Expect::Acks, customers.len());
        let (lag, mut result, output) = tokio::join!(sender, collector, during(schedule));
        result.rate = rate;
        result.lag = lag;
        self.unanswered = Some((run, result.latencies.lost()));
        (result, output)
    }

    /// The agent sends `rate` messages per second for `duration` over HTTP, to the customers'
    /// chats in turn; latency until the customer's socket reads the push. Also returns the
    /// HTTP calls' own latencies (until their response) and failures.
    pub async fn agent_sends(&mut self, agent: &Agent, rate: u32, duration: Duration) -> (RunResult, Latencies, u64) {
        let run = self.next_run();
        let schedule = Schedule::new(rate, duration);
        let customers = self.customers;
        let n = customers.len() as u64;
        let (calls_tx, mut calls) = mpsc::unbounded_channel::<Option<Duration>>();
        let sender = drive(&schedule, n, |index| {
            let (agent, calls_tx) = (agent.clone(), calls_tx.clone());
            let chat_id = customers[(index % n) as usize].chat_id.clone();
            let due = schedule.due(index);
            tokio::spawn(async move {
                let event = Event::message(MESSAGE_TEXT).with_custom_id(Tag { run, index }.to_string());
                let answered = agent.send_event(&chat_id, event).await.ok().map(|_| due.elapsed());
                let _ = calls_tx.send(answered);
            });
            true
        });
        let collector = collect(self.observations, run, &schedule, Expect::Deliveries, customers.len());
        let (lag, mut result) = tokio::join!(sender, collector);
        drop(calls_tx);
        result.rate = rate;
        result.lag = lag;

        // The calls: each ends within the agent's call timeout, or is counted as failed.
        let mut http = Latencies::new();
        let mut failed = 0;
        let deadline = schedule.end() + DRAIN_TIMEOUT;
        while http.count() + failed < schedule.count() {
            match tokio::time::timeout_at(deadline.into(), calls.recv()).await {
                Ok(Some(Some(latency))) => http.record(latency),
                Ok(Some(None)) => failed += 1,
                Ok(None) | Err(_) => break,
            }
        }
        http.add_lost(schedule.count() - http.count() - failed);
        (result, http, failed)
    }
}

/// Matches observations to run `run` until every message is answered, every socket closed,
/// or `DRAIN_TIMEOUT` after the last due time.
async fn collect(
    observations: &mut mpsc::UnboundedReceiver<Observation>,
    run: u32,
    schedule: &Schedule,
    expect: Expect,
    sockets: usize,
) -> RunResult {
    let deadline = schedule.end() + DRAIN_TIMEOUT;
    let mut latencies = Latencies::new();
    let mut acked = Vec::new();
    let mut errors = BTreeMap::new();
    let mut answered = 0;
    let mut closed = 0;
    let mut last_answer = schedule.start();
    while answered < schedule.count() && closed < sockets {
        let observation = match tokio::time::timeout_at(deadline.into(), observations.recv()).await {
            Ok(Some(observation)) => observation,
            Ok(None) | Err(_) => break,
        };
        let (tag, at, error) = match observation {
            Observation::Acked { tag, at, error } if expect == Expect::Acks => (tag, at, error),
            Observation::Delivered { tag, at } if expect == Expect::Deliveries => (tag, at, None),
            Observation::Closed => {
                closed += 1;
                continue;
            }
            _ => continue,
        };
        if tag.run != run || tag.index >= schedule.count() {
            continue; // a late answer of an earlier run
        }
        answered += 1;
        last_answer = last_answer.max(at);
        match error {
            None => {
                latencies.record(at.saturating_duration_since(schedule.due(tag.index)));
                acked.push(tag.index);
            }
            Some(kind) => *errors.entry(kind).or_insert(0) += 1,
        }
    }
    latencies.add_lost(schedule.count() - answered);
    RunResult {
        run,
        rate: 0,
        scheduled: schedule.count(),
        latencies,
        acked,
        errors,
        lag: Latencies::new(),
        elapsed: last_answer.saturating_duration_since(schedule.start()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        let tag = Tag { run: 3, index: 1234 };
        assert_eq!(tag.to_string(), "r3-1234");
        assert_eq!("r3-1234".parse::<Tag>(), Ok(tag));
        assert!("setup1".parse::<Tag>().is_err());
        assert!("r3".parse::<Tag>().is_err());
    }

    #[test]
    fn a_schedule_spaces_messages_evenly() {
        let schedule = Schedule::new(200, Duration::from_secs(3));
        assert_eq!(schedule.count(), 600);
        assert_eq!(schedule.due(200) - schedule.start(), Duration::from_secs(1));
        assert_eq!(schedule.end() - schedule.start(), Duration::from_secs_f64(599.0 / 200.0));
    }

    #[tokio::test]
    async fn the_driver_sends_each_message_once_in_order() {
        let schedule = Schedule::new(1_000, Duration::from_millis(50));
        let mut sent = Vec::new();
        let lag = drive(&schedule, 1, |i| {
            sent.push(i);
            true
        })
        .await;
        assert_eq!(sent, (0..50).collect::<Vec<_>>());
        assert_eq!(lag.count(), 50);
    }

    #[tokio::test]
    async fn the_driver_gives_up_when_every_socket_is_gone() {
        let schedule = Schedule::new(1_000, Duration::from_millis(50));
        let mut tried = 0;
        drive(&schedule, 3, |_| {
            tried += 1;
            false
        })
        .await;
        assert_eq!(tried, 3);
    }
}
