//! The server's one clock. Every time the server reads (timestamps, token expiry, login and
//! token deadlines, rate limits) comes from a [`Clock`], so tests swap in a manual clock and
//! move it forward instead of sleeping.
//!
//! Time is wall-clock microseconds since the Unix epoch ([`Micros`]): what the database stores
//! and what the wire shows (as RFC 3339). A backwards step of the system clock is harmless:
//! deadlines then fire a little late, rate limits refill a little late.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

impl Micros {
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    pub fn from_unix_seconds(seconds: i64) -> Self {
        Micros(seconds.saturating_mul(1_000_000))
    }

    pub fn plus(self, duration: Duration) -> Self {
        Micros(self.0.saturating_add(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Micros) -> Duration {
        Duration::from_micros(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// A time the wire wrote (RFC 3339, any offset); `None` if it is not one.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| Micros(t.timestamp_micros()))
    }

    /// As the wire writes times: RFC 3339, microseconds, UTC.
    pub fn rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_micros(self.0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    /// Moves only when told to; sleepers wake when it passes their deadline.
    Manual(watch::Sender<Micros>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock standing at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Micros) -> Self {
        Clock(Arc::new(Source::Manual(watch::Sender::new(start))))
    }

    pub fn now(&self) -> Micros {
        match &*self.0 {
            Source::System => Micros(chrono::Utc::now().timestamp_micros()),
            Source::Manual(now) => *now.borrow(),
        }
    }

    /// Moves a manual clock forward (a system clock ignores this).
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(now) = &*self.0 {
            now.send_modify(|now| *now = now.plus(by));
        }
    }

    /// Resolves once the clock reads `at` or later.
    pub async fn sleep_until(&self, at: Micros) {
        match &*self.0 {
            Source::System => tokio::time::sleep(at.since(self.now())).await,
            Source::Manual(now) => {
                let mut now = now.subscribe();
                // The sender lives as long as this clock, so `changed` only fails at teardown.
                while *now.borrow_and_update() < at {
                    if now.changed().await.is_err() {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::system"),
            Source::Manual(now) => write!(f, "Clock::manual({})", now.borrow().rfc3339()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_render_as_the_wire_writes_times() {
        assert_eq!(Micros(1_764_000_000_123_456).rfc3339(), "2025-11-24T16:00:00.123456Z");
        assert_eq!(Micros::from_unix_seconds(5).unix_seconds(), 5);
        assert_eq!(Micros(10).since(Micros(20)), Duration::ZERO);
        assert_eq!(Micros::parse_rfc3339("2025-11-24T16:00:00.123456Z"), Some(Micros(1_764_000_000_123_456)));
        assert_eq!(Micros::parse_rfc3339("2025-11-24T17:00:00.123456+01:00"), Some(Micros(1_764_000_000_123_456)));
        assert_eq!(Micros::parse_rfc3339("yesterday"), None);
    }

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_only_when_moved_past_their_deadline() {
        let clock = Clock::manual(Micros(0));
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(Micros(0).plus(Duration::from_secs(30))).await }
        });
        clock.advance(Duration::from_secs(29));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.unwrap().unwrap();
        assert_eq!(clock.now(), Micros(30_000_000));
    }
}
