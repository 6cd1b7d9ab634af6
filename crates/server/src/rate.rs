//! A token bucket: `rate` actions per second on average, bursts up to `burst`. Time is passed
//! in (from the server's `Clock`), so the rules are tested without sleeping.

use crate::clock::Micros;
use crate::limits::MAX_TRACKED_ADDRESSES;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

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
}
