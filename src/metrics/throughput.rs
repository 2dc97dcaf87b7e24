//! Messages per second over the whole server, for `GET /api/stats`: a sampler that
//! reads the Prometheus counters once a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use super::{Kind, METRICS};
use crate::lifecycle::Tasks;

/// Messages per second over the whole server, sampled once a second by a task that
/// ends with the server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Throughput {
    started: Instant,
    /// The last rate, as the bits of an `f64` (0.0 before the first sample).
    rate: Arc<AtomicU64>,
}

/// How often the rate is sampled, and so the window it is averaged over.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

impl Throughput {
    /// Starts sampling, until the server stops.
    pub fn start(tasks: &Tasks) -> Self {
        let throughput = Self {
            started: Instant::now(),
            rate: Arc::new(AtomicU64::new(0f64.to_bits())),
        };
        let rate = throughput.rate.clone();
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(SAMPLE_EVERY);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let mut last = (Instant::now(), messages_so_far());
            loop {
                let now = ticks.tick().await;
                let sample = (now, messages_so_far());
                rate.store(per_second(last, sample).to_bits(), Ordering::Relaxed);
                last = sample;
            }
        });
        throughput
    }

    pub fn per_second(&self) -> f64 {
        f64::from_bits(self.rate.load(Ordering::Relaxed))
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Messages received and sent by every kind of connection since the process started.
fn messages_so_far() -> u64 {
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let counts = METRICS.connection(kind);
            counts.received.get() + counts.sent.get()
        })
        .sum()
}

/// The rate between two `(when, count)` samples; 0 when no time passed.
fn per_second((then, before): (Instant, u64), (now, after): (Instant, u64)) -> f64 {
    let elapsed = now.saturating_duration_since(then).as_secs_f64();
    if elapsed == 0.0 {
        return 0.0;
    }
    after.saturating_sub(before) as f64 / elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_messages_over_the_time_between_samples() {
        let then = Instant::now();
        let rate = per_second((then, 100), (then + Duration::from_millis(500), 160));
        assert_eq!(rate, 120.0);
    }

    #[test]
    fn no_time_or_no_messages_is_a_rate_of_zero() {
        let now = Instant::now();
        assert_eq!(per_second((now, 5), (now, 9)), 0.0);
        assert_eq!(per_second((now, 5), (now + SAMPLE_EVERY, 5)), 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn uptime_counts_from_the_start() {
        let tasks = Tasks::new();
        let throughput = Throughput::start(&tasks);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(throughput.uptime().as_secs(), 3);
        assert_eq!(tasks.stop(Duration::from_secs(1)).await, 0);
    }
}
