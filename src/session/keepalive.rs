//! Keepalive bookkeeping for one connection: when to ping, and when silence means the
//! client is gone.

use std::time::Duration;

use tokio::time::Instant;

/// Keepalive bookkeeping: when to ping, and when silence means the client is gone.
/// Reading the clock per frame is all it costs; the timer is reset only when it fires.
#[derive(Debug)]
pub(super) struct Keepalive {
    ping_interval: Duration,
    idle_timeout: Duration,
    next_ping: Instant,
    last_heard: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Tick {
    Ping,
    Idle,
    Nothing,
}

impl Keepalive {
    pub(super) fn new(ping_interval: Duration, idle_timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            ping_interval,
            idle_timeout,
            next_ping: now + ping_interval,
            last_heard: now,
        }
    }

    pub(super) fn heard_from_client(&mut self, now: Instant) {
        self.last_heard = now;
    }

    pub(super) fn next_deadline(&self) -> Instant {
        self.next_ping.min(self.last_heard + self.idle_timeout)
    }

    pub(super) fn on_timer(&mut self, now: Instant) -> Tick {
        if now >= self.last_heard + self.idle_timeout {
            Tick::Idle
        } else if now >= self.next_ping {
            self.next_ping = now + self.ping_interval;
            Tick::Ping
        } else {
            Tick::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn keepalive_pings_on_schedule_and_gives_up_after_silence() {
        let mut keepalive = Keepalive::new(Duration::from_secs(20), Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(keepalive.next_deadline(), start + Duration::from_secs(20));

        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Ping);
        assert_eq!(keepalive.next_deadline(), start + Duration::from_secs(40));

        // The client answers at 30 s: the idle deadline moves to 90 s.
        tokio::time::advance(Duration::from_secs(10)).await;
        keepalive.heard_from_client(Instant::now());
        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Ping, "at 40 s");
        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Ping, "at 60 s");
        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Ping, "at 80 s");
        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(90));
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Idle);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_timeout_shorter_than_the_ping_interval_still_applies() {
        let mut keepalive = Keepalive::new(Duration::from_secs(20), Duration::from_secs(5));
        tokio::time::sleep_until(keepalive.next_deadline()).await;
        assert_eq!(keepalive.on_timer(Instant::now()), Tick::Idle);
    }
}
