//! Latency samples and their summary, and the formatting of durations, rates and sizes.
//!
//! Samples are kept whole (a run holds at most some tens of thousands), so percentiles are
//! exact. A message never answered is *lost*: it sorts after every answered one, so a
//! percentile that falls among the lost reads "lost" instead of a flattering number.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples: Vec<Duration>,
    lost: u64,
}

impl Latencies {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, latency: Duration) {
        self.samples.push(latency);
    }

    /// Adds another run's samples and lost messages to these.
    pub fn merge(&mut self, other: &Latencies) {
        self.samples.extend_from_slice(&other.samples);
        self.lost += other.lost;
    }

    pub fn add_lost(&mut self, lost: u64) {
        self.lost += lost;
    }

    /// Answered messages.
    pub fn count(&self) -> u64 {
        self.samples.len() as u64
    }

    pub fn lost(&self) -> u64 {
        self.lost
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let total = sorted.len() as u64 + self.lost;
        let at = |q: f64| -> Quantile {
            if total == 0 {
                return Quantile::None;
            }
            // Nearest rank: the smallest sample with at least q of all at or below it.
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            match sorted.get(rank as usize - 1) {
                Some(&d) => Quantile::At(d),
                None => Quantile::Lost,
            }
        };
        Summary { p50: at(0.50), p99: at(0.99), max: at(1.0) }
    }
}

/// One percentile of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantile {
    /// No samples at all.
    None,
    At(Duration),
    /// The percentile falls among messages never answered.
    Lost,
}

impl Quantile {
    /// Whether this percentile is known and at most `bound`.
    pub fn within(self, bound: Duration) -> bool {
        matches!(self, Quantile::At(d) if d <= bound)
    }
}

impl fmt::Display for Quantile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantile::None => f.write_str("–"),
            Quantile::At(d) => f.write_str(&duration(*d)),
            Quantile::Lost => f.write_str("lost"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50: Quantile,
    pub p99: Quantile,
    pub max: Quantile,
}

impl fmt::Display for Summary {
    /// `p50 1.2 ms · p99 4.0 ms · max 9.1 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p50 {} · p99 {} · max {}", self.p50, self.p99, self.max)
    }
}

/// A duration in the unit that reads best: µs below 1 ms, ms below 1 s, else s.
pub fn duration(d: Duration) -> String {
    // The unit is chosen on the rounded value, so 999.999 ms reads `1 s`, not `1000 ms`.
    let micros = (d.as_secs_f64() * 1e6).round();
    let millis = (micros / 10.0).round() / 100.0;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if millis < 1_000.0 {
        format!("{} ms", two_decimals(millis))
    } else {
        format!("{} s", two_decimals(d.as_secs_f64()))
    }
}

/// At most two decimals, without trailing zeros: `5.1`, `100`, `12.34`.
fn two_decimals(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Seconds with two decimals.
pub fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// A rate per second, rounded to a whole number.
pub fn per_second(count: u64, over: Duration) -> String {
    let secs = over.as_secs_f64();
    if secs <= 0.0 {
        return "–".into();
    }
    format!("{:.0}/s", count as f64 / secs)
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut l = Latencies::new();
        for n in 1..=100 {
            l.record(ms(n));
        }
        let s = l.summary();
        assert_eq!(s.p50, Quantile::At(ms(50)));
        assert_eq!(s.p99, Quantile::At(ms(99)));
        assert_eq!(s.max, Quantile::At(ms(100)));
    }

    #[test]
    fn lost_messages_sort_last() {
        let mut l = Latencies::new();
        for n in 1..=98 {
            l.record(ms(n));
        }
        l.add_lost(2);
        let s = l.summary();
        assert_eq!(s.p50, Quantile::At(ms(50)));
        assert_eq!(s.p99, Quantile::Lost, "the 99th of 100 is a lost one");
        assert_eq!(s.max, Quantile::Lost);
        assert!(!s.p99.within(ms(1_000)));
    }

    #[test]
    fn no_samples_is_none() {
        assert_eq!(Latencies::new().summary().p99, Quantile::None);
    }

    #[test]
    fn durations_read_in_their_unit() {
        assert_eq!(duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(duration(Duration::from_micros(1_250)), "1.25 ms");
        assert_eq!(duration(Duration::from_micros(5_100)), "5.1 ms");
        assert_eq!(duration(Duration::from_millis(100)), "100 ms");
        assert_eq!(duration(Duration::from_secs(12)), "12 s");
        assert_eq!(duration(Duration::from_nanos(999_999_999)), "1 s");
        assert_eq!(duration(Duration::from_nanos(999_999)), "1 ms");
    }
}
