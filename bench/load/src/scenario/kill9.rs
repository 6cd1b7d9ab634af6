//! `kill9`: does an acknowledged message survive `kill -9`, exactly once?
//!
//! Customers send an open-loop burst, each message with its own `custom_id`. In the middle of
//! the burst the server is killed (SIGKILL, or `--kill-cmd`), then started again. Every
//! message that had been acknowledged (a successful `send_event` response) must then be in its
//! chat exactly once; the tool reads every chat through the Agent Web API (`get_chat`: each
//! chat has one thread, and the burst is spread so that each holds fewer events than one read
//! returns) and counts by `custom_id`. Messages whose answer the
//! kill cut off may or may not be stored; both are fine and reported for information.

use super::{customers_for, live_customers};
use crate::agent::Agent;
use crate::cli::ScenarioArgs;
use crate::customer::{Live, SETUP_CONCURRENCY, close_all};
use crate::openloop::{Runner, Tag};
use crate::report::Report;
use crate::stats::{duration, seconds};
use crate::target::Target;
use anyhow::{Context, Result, anyhow, bail};
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const NAME: &str = "kill9";
/// The newest events of a thread that `get_chat` returns, at most (`MAX_EVENTS_PER_THREAD_READ`
/// in crates/server/src/limits.rs): every message of a chat must fit, to be counted.
const MAX_EVENTS_READ_PER_THREAD: u64 = 1000;

pub async fn run(target: &Target, args: &ScenarioArgs, report: &mut Report) -> Result<()> {
    target.can_restart()?;
    let agent = Agent::new(target)?;
    let n = args.kill9_customers.max(customers_for(args.kill9_rate));
    let burst = Duration::from_secs_f64(args.kill9_seconds);
    let per_chat = (f64::from(args.kill9_rate) * burst.as_secs_f64() / n as f64).ceil() as u64;
    if per_chat > MAX_EVENTS_READ_PER_THREAD {
        bail!(
            "{per_chat} messages per chat, but get_chat returns at most {MAX_EVENTS_READ_PER_THREAD}: give more --kill9-customers"
        );
    }
    let (customers, mut observations) = live_customers(target, n).await?;
    let chats: Vec<String> = customers.iter().map(|c| c.chat_id.clone()).collect();
    let kill_after = Duration::from_millis(args.kill9_after_ms);

    eprintln!("  {}/s over {n} customers; kill -9 after {kill_after:?}", args.kill9_rate);
    let mut runner = Runner::new(&customers, &mut observations);
    let (result, killed) = runner
        .customer_sends_while(args.kill9_rate, burst, |schedule| async move {
            tokio::time::sleep_until((schedule.start() + kill_after).into()).await;
            target.kill().await.map(|()| Instant::now())
        })
        .await;
    let written: u64 = customers.iter().map(Live::written).sum();
    close_all(customers).await;
    let killed_at = killed.context("killing the server")?;

    target.start().await.context("starting the server after the kill")?;
    let restarted_in = killed_at.elapsed();

    // What is stored, by custom_id, through the Agent Web API.
    let threads = futures::stream::iter(&chats)
        .map(|chat_id| agent.get_chat(chat_id))
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .context("reading the chats back")?;
    let mut stored: HashMap<u64, u32> = HashMap::new();
    for chat in threads {
        let thread = chat.thread.ok_or_else(|| anyhow!("chat {} came back without its thread", chat.id))?;
        for event in thread.events {
            if let Some(tag) = event.custom_id.and_then(|c| c.parse::<Tag>().ok())
                && tag.run == result.run
            {
                *stored.entry(tag.index).or_insert(0) += 1;
            }
        }
    }

    let acked: HashSet<u64> = result.acked.iter().copied().collect();
    let present_once = acked.iter().filter(|i| stored.get(i) == Some(&1)).count();
    let missing = acked.iter().filter(|i| !stored.contains_key(i)).count();
    let duplicated = stored.values().filter(|&&count| count > 1).count();
    let unacked_stored = stored.keys().filter(|i| !acked.contains(i)).count();
    let verdict = if missing == 0 && duplicated == 0 { "yes" } else { "NO" };

    report.add(
        NAME,
        "burst",
        format!("{}/s over {n} customers; kill -9 after {}", args.kill9_rate, duration(kill_after)),
    );
    report.add(NAME, "written to the sockets", format!("{written} (of {} scheduled)", result.scheduled));
    report.add(NAME, "acked", acked.len());
    report.add(NAME, "acked and present once", present_once);
    report.add(NAME, "acked but missing", missing);
    report.add(NAME, "duplicated", duplicated);
    report.add(NAME, "unacked but stored (answer cut off)", unacked_stored);
    report.add(NAME, "every acked message stored exactly once", verdict);
    report.add(NAME, "kill → healthy again", seconds(restarted_in));
    Ok(())
}
