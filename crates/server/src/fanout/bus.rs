//! The bus between nodes (PostgreSQL only): every node learns of the domain events other nodes
//! commit, and delivers them to its own sockets.
//!
//! A write transaction records its domain events in `domain_log` and sends
//! `NOTIFY confab_domain, '<node>:<log id>'` (`store::Conn::publish`); PostgreSQL delivers
//! notifications only at commit and in commit order. Each node's listener reads the entries it
//! is told of, skips its own (delivered at commit already), and hands the rest to `Fanout`.
//!
//! A listener that loses its connection does not silently miss what was committed meanwhile:
//! it reconnects after `BUS_RECONNECT_DELAY`, listens again, then reads every entry committed
//! since shortly before the loss (`BUS_RESYNC_MARGIN`), skipping those it already delivered.
//! Clients drop the rare duplicate by the event's `seq`. Entries older than `BUS_LOG_RETENTION`
//! are pruned.

use super::Fanout;
use crate::clock::Micros;
use crate::domain::{Domain, DomainEvent};
use crate::limits::{BUS_LOG_RETENTION, BUS_RECONNECT_DELAY, BUS_RESYNC_MARGIN, BUS_SEEN_IDS};
use crate::shutdown::Shutdown;
use crate::store::{BUS_CHANNEL, Store};
use sqlx::postgres::PgListener;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters a test or an operator can read.
#[derive(Debug, Default)]
pub struct BusStats {
    /// Times the listener lost its connection and resynced.
    pub resyncs: AtomicU64,
    /// Domain events from other nodes delivered here.
    pub delivered: AtomicU64,
}

/// Starts this node's listener (and log pruning) when the store is PostgreSQL. Returns once it
/// listens, so that no socket this node serves can miss a push committed after it started.
pub async fn start(
    domain: Arc<Domain>,
    fanout: Arc<Fanout>,
    stats: Arc<BusStats>,
    shutdown: Shutdown,
) -> Result<(), sqlx::Error> {
    let Store::Postgres { pool, .. } = &domain.store else {
        return Ok(());
    };
    let pool = pool.clone();
    let first = listen(&pool).await?;
    let listener = Listener { domain, fanout, stats, seen: Seen::default() };
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.signalled() => {}
            _ = listener.run(pool, first) => {}
        }
    });
    Ok(())
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(BUS_CHANNEL).await?;
    Ok(listener)
}

struct Listener {
    domain: Arc<Domain>,
    fanout: Arc<Fanout>,
    stats: Arc<BusStats>,
    seen: Seen,
}

impl Listener {
    async fn run(mut self, pool: sqlx::PgPool, first: PgListener) {
        let mut lost_at: Option<Micros> = None;
        let mut last_prune = Micros(0);
        let mut connected = Some(first);
        loop {
            let mut listener = match connected.take() {
                Some(listener) => listener,
                None => match listen(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "bus: cannot listen; retrying");
                        tokio::time::sleep(BUS_RECONNECT_DELAY).await;
                        continue;
                    }
                },
            };
            if let Some(lost) = lost_at.take() {
                // Listening again: now read what was committed while we were away.
                self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
                if let Err(error) = self.resync(lost).await {
                    tracing::warn!(%error, "bus: resync failed; retrying");
                    lost_at = Some(lost);
                    tokio::time::sleep(BUS_RECONNECT_DELAY).await;
                    continue;
                }
            }
            loop {
                let now = self.domain.clock.now();
                if now.since(last_prune) > BUS_LOG_RETENTION / 10 {
                    last_prune = now;
                    self.prune(now).await;
                }
                match listener.try_recv().await {
                    Ok(Some(notification)) => self.on_notification(notification.payload()).await,
                    Ok(None) | Err(_) => {
                        tracing::warn!("bus: listener connection lost; will resync");
                        lost_at = Some(self.domain.clock.now());
                        break;
                    }
                }
            }
            drop(listener);
            tokio::time::sleep(BUS_RECONNECT_DELAY).await;
        }
    }

    async fn on_notification(&mut self, payload: &str) {
        let Some((node, id)) = payload.split_once(':') else {
            return;
        };
        let Ok(id) = id.parse::<i64>() else { return };
        if node == self.domain.node_id || self.seen.contains(id) {
            return;
        }
        let entries = match self.domain.store.read().await {
            Ok(mut db) => db.logged(&[id]).await,
            Err(error) => Err(error),
        };
        match entries {
            Ok(entries) => self.deliver(entries),
            Err(error) => tracing::warn!(%error, id, "bus: cannot read a log entry"),
        }
    }

    async fn resync(&mut self, lost_at: Micros) -> crate::error::Result<()> {
        let since = Micros(lost_at.0 - BUS_RESYNC_MARGIN.as_micros() as i64);
        let entries = self.domain.store.read().await?.logged_since(since).await?;
        self.deliver(entries);
        Ok(())
    }

    fn deliver(&mut self, entries: Vec<(i64, String, String)>) {
        for (id, node, payload) in entries {
            if node == self.domain.node_id || !self.seen.insert(id) {
                continue;
            }
            match serde_json::from_str::<Vec<DomainEvent>>(&payload) {
                Ok(events) => {
                    self.fanout.push(&events, None);
                    self.stats.delivered.fetch_add(events.len() as u64, Ordering::Relaxed);
                }
                Err(error) => tracing::warn!(%error, id, "bus: unreadable log entry"),
            }
        }
    }

    async fn prune(&self, now: Micros) {
        let before = Micros(now.0 - BUS_LOG_RETENTION.as_micros() as i64);
        let pruned = match self.domain.store.write().await {
            Ok(mut tx) => match tx.prune_log(before).await {
                Ok(n) => tx.commit().await.map(|_| n),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if let Err(error) = pruned {
            tracing::warn!(%error, "bus: cannot prune the log");
        }
    }
}

/// The log ids delivered recently (at most `BUS_SEEN_IDS`), so a resync skips them.
#[derive(Default)]
struct Seen {
    order: VecDeque<i64>,
    ids: HashSet<i64>,
}

impl Seen {
    fn contains(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// Remembers `id`; false if it was already known.
    fn insert(&mut self, id: i64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > BUS_SEEN_IDS
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        true
    }
}
