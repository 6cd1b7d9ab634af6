//! A token bucket: `rate` actions per second on average, bursts up to `burst`. Time is passed
//! in (from the server's `Clock`), so the rules are tested without sleeping.

use crate::clock::Micros;
use crate::limits::{MAX_TRACKED_ADDRESSES, MAX_TRACKED_CUSTOMERS};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Micros,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32, now: Micros) -> Self {
        Self { rate: f64::from(rate), burst: f64::from(burst), tokens: f64::from(burst), last: now }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Micros) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again (nothing to remember about its owner).
    pub fn is_full(&mut self, now: Micros) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }

    fn refill(&mut self, now: Micros) {
        let elapsed = now.since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }
}

/// One token bucket per key, for limits that must hold across connections: per client address
/// (the token endpoint), per customer (uploads, link previews). Remembers at most
/// `MAX_TRACKED_ADDRESSES` keys; when full, it forgets the keys whose bucket has refilled (they
/// lose nothing by it).
pub struct KeyedLimiter<K> {
    rate: u32,
    burst: u32,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Per client address.
pub type AddressLimiter = KeyedLimiter<IpAddr>;
/// Per customer (or agent) id.
pub type UserLimiter = KeyedLimiter<String>;

impl<K: Eq + Hash> KeyedLimiter<K> {
    pub fn new(rate: u32, burst: u32) -> Self {
        Self { rate, burst, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token from `key`'s bucket if there is one.
    pub fn take(&self, key: K, now: Micros) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_ADDRESSES && !buckets.contains_key(&key) {
            buckets.retain(|_, bucket| !bucket.is_full(now));
            if buckets.len() >= MAX_TRACKED_ADDRESSES {
                // Every tracked key is busy: forgetting them is fairer than refusing all.
                buckets.clear();
            }
        }
        buckets.entry(key).or_insert_with(|| TokenBucket::new(self.rate, self.burst, now)).take(now)
    }
}

/// Sockets open per client address that have not logged in yet. The map holds only addresses
/// with such a socket, so it is bounded by the open sockets.
#[derive(Default)]
pub struct PendingSockets {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One not-yet-logged-in socket from `address`; dropping it (at login, or when the socket
/// ends) gives the place back.
pub struct PendingSocket {
    owner: Arc<PendingSockets>,
    address: IpAddr,
}

impl PendingSockets {
    /// A place for one more socket from `address`, unless it has `max` already.
    pub fn try_open(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<PendingSocket> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(address).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(PendingSocket { owner: self.clone(), address })
    }
}

impl Drop for PendingSocket {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Strikes against customers who keep opening sockets beyond their limit: `strikes` within
/// `period` block them for `block`. Remembers at most `MAX_TRACKED_CUSTOMERS`; when full, it
/// forgets the customers whose strikes and block have lapsed.
pub struct Strikes {
    strikes: u32,
    period: Duration,
    block: Duration,
    customers: Mutex<HashMap<String, Record>>,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    since: Micros,
    count: u32,
    blocked_until: Option<Micros>,
}

impl Record {
    fn lapsed(&self, now: Micros, period: Duration) -> bool {
        self.blocked_until.is_none_or(|until| until <= now) && now.since(self.since) >= period
    }
}

impl Strikes {
    pub fn new(strikes: u32, period: Duration, block: Duration) -> Self {
        Self { strikes, period, block, customers: Mutex::new(HashMap::new()) }
    }

    /// Whether the customer is blocked at `now`.
    pub fn is_blocked(&self, customer_id: &str, now: Micros) -> bool {
        let customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        customers.get(customer_id).and_then(|r| r.blocked_until).is_some_and(|until| until > now)
    }

    /// Counts a strike; the one that reaches the limit within the period starts a block.
    pub fn strike(&self, customer_id: &str, now: Micros) {
        let mut customers = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        if customers.len() >= MAX_TRACKED_CUSTOMERS && !customers.contains_key(customer_id) {
            customers.retain(|_, record| !record.lapsed(now, self.period));
            if customers.len() >= MAX_TRACKED_CUSTOMERS {
                return; // every tracked customer is striking: this one goes unrecorded
            }
        }
        let record =
            customers.entry(customer_id.to_owned()).or_insert(Record { since: now, count: 0, blocked_until: None });
        if now.since(record.since) >= self.period {
            *record = Record { since: now, count: 0, blocked_until: record.blocked_until };
        }
        record.count += 1;
        if record.count >= self.strikes {
            record.blocked_until = Some(now.plus(self.block));
            record.count = 0;
            record.since = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;
    use crate::clock::Micros;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Micros(1_000_000);
        let mut bucket = TokenBucket::new(10, 30, start);
        assert!((0..30).all(|_| bucket.take(start)), "the burst");
        assert!(!bucket.take(start), "then empty");
        assert!(bucket.take(start.plus(Duration::from_millis(100))), "one token per 100 ms");
        assert!(!bucket.take(start.plus(Duration::from_millis(100))));
        // A long pause refills to the burst, not beyond.
        let later = start.plus(Duration::from_secs(60));
        assert!((0..30).all(|_| bucket.take(later)));
        assert!(!bucket.take(later));
    }

    #[test]
    fn addresses_have_their_own_buckets() {
        let now = Micros(0);
        let limiter = super::AddressLimiter::new(1, 2);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.take(a, now) && limiter.take(a, now));
        assert!(!limiter.take(a, now), "a's burst is spent");
        assert!(limiter.take(b, now), "b is not a");
        assert!(limiter.take(a, now.plus(Duration::from_secs(1))), "a refills");
    }

    #[test]
    fn strikes_within_the_period_block_for_a_while() {
        let start = Micros(0);
        let strikes = super::Strikes::new(3, Duration::from_secs(60), Duration::from_secs(300));
        strikes.strike("c", start);
        strikes.strike("c", start.plus(Duration::from_secs(10)));
        assert!(!strikes.is_blocked("c", start.plus(Duration::from_secs(10))));
        // The period lapses: counting starts again.
        strikes.strike("c", start.plus(Duration::from_secs(70)));
        strikes.strike("c", start.plus(Duration::from_secs(71)));
        assert!(!strikes.is_blocked("c", start.plus(Duration::from_secs(71))));
        strikes.strike("c", start.plus(Duration::from_secs(72)));
        assert!(strikes.is_blocked("c", start.plus(Duration::from_secs(72))));
        assert!(!strikes.is_blocked("d", start.plus(Duration::from_secs(72))), "only that customer");
        assert!(strikes.is_blocked("c", start.plus(Duration::from_secs(371))));
        assert!(!strikes.is_blocked("c", start.plus(Duration::from_secs(372))), "the block ends");
    }

    #[test]
    fn pending_sockets_are_counted_per_address_until_dropped() {
        let pending = std::sync::Arc::new(super::PendingSockets::default());
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = pending.try_open(a, 2).unwrap();
        let _second = pending.try_open(a, 2).unwrap();
        assert!(pending.try_open(a, 2).is_none(), "a has two");
        assert!(pending.try_open(b, 2).is_some(), "b is not a");
        drop(first);
        assert!(pending.try_open(a, 2).is_some(), "a place came back");
    }
}
