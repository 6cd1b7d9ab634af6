//! `latency`: how long one message takes at a steady rate, in both directions.
//!
//! - **customer → server**: customers' `send_event` on their sockets, latency until the
//!   response (the server answers once the event is committed).
//! - **agent → customer**: the agent's `send_event` over the Web API (on the agent node), to
//!   the customers' chats in turn; latency until the customer's socket reads the
//!   `incoming_event` push. With two nodes that push crosses nodes.
//!
//! Each rate is an open-loop run (see `openloop`): latency is measured from each message's
//! scheduled time. Messages are spread over enough customers to stay well under the server's
//! per-socket rate limit; each customer has its own chat. Before timing, the agent writes once
//! in every chat, so the one-time join (`user_added_to_chat`) is not timed.

use super::{CpuMeter, customers_for, live_customers, run_detail};
use crate::agent::Agent;
use crate::cli::ScenarioArgs;
use crate::customer::{SETUP_CONCURRENCY, close_all};
use crate::openloop::Runner;
use crate::report::Report;
use crate::target::Target;
use anyhow::{Context, Result, bail};
use confab_protocol::Event;
use futures::{StreamExt, TryStreamExt};
use std::time::Duration;

const NAME: &str = "latency";
/// At least this many customers share the load, however low the rate.
const MIN_CUSTOMERS: usize = 100;
/// The agent's first message in each chat (no tag, so no reader reports it).
const WARM_UP_TEXT: &str = "Hi, I'm here to help. (confab-load warm-up)";

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    let Some(&max_rate) = args.latency_rates.iter().max() else { bail!("give at least one --latency-rates") };
    let agent = Agent::new(target)?;
    let duration = Duration::from_secs_f64(args.latency_seconds);
    let n = customers_for(max_rate).max(MIN_CUSTOMERS);
    let (customers, mut observations) = live_customers(target, n).await?;

    let chats: Vec<String> = customers.iter().map(|c| c.chat_id.clone()).collect();
    futures::stream::iter(&chats)
        .map(|chat_id| agent.send_event(chat_id, Event::message(WARM_UP_TEXT)))
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .context("the agent's warm-up message")?;

    let mut runner = Runner::new(&customers, &mut observations);
    for &rate in &args.latency_rates {
        eprintln!("  customer send → ack at {rate}/s for {duration:?} over {n} customers");
        let cpu = CpuMeter::start(target)?;
        let result = runner.customer_sends(rate, duration).await;
        let server_cpu = cpu.percent()?;
        report.add(NAME, format!("customer send → ack @ {rate}/s"), result.latencies.summary());
        report.add(NAME, format!("customer send → ack @ {rate}/s: run"), run_detail(&result, &server_cpu));
    }
    for &rate in &args.latency_rates {
        eprintln!("  agent send → customer push at {rate}/s for {duration:?} over {n} chats");
        let cpu = CpuMeter::start(target)?;
        let (result, http, failed) = runner.agent_sends(&agent, rate, duration).await;
        let server_cpu = cpu.percent()?;
        report.add(NAME, format!("agent send → customer push @ {rate}/s"), result.latencies.summary());
        report.add(NAME, format!("agent send → customer push @ {rate}/s: run"), run_detail(&result, &server_cpu));
        let calls = http.summary();
        report.add(
            NAME,
            format!("agent send → HTTP response @ {rate}/s"),
            format!("p50 {} · p99 {} · failed {failed}", calls.p50, calls.p99),
        );
    }
    close_all(customers).await;
    Ok(())
}
