//! Limits how many unknown pairing codes one client address may try: a code is only six
//! characters, so without a limit a script could walk the code space and join other
//! people's displays.
//!
//! Only misses count, and once an address has used up its misses for the current
//! window every lookup from it is refused, hits included; otherwise a guesser would keep
//! guessing and still learn which code is live. Written here rather than with `governor`
//! (used for message rates) because this needs to look at the budget without spending
//! it, and governor's keyed limiters only offer check-and-consume.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::METRICS;

/// Misses allowed per address per window (`--code-guesses N/WINDOW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessLimit {
    pub misses: u32,
    pub window: Duration,
}

impl Default for GuessLimit {
    fn default() -> Self {
        Self {
            misses: 10,
            window: Duration::from_secs(60),
        }
    }
}

impl std::str::FromStr for GuessLimit {
    type Err = String;

    /// `10/1m`: ten misses per minute.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("expected MISSES/WINDOW such as 10/1m, got {s:?}");
        let (misses, window) = s.split_once('/').ok_or_else(usage)?;
        let misses: u32 = misses.trim().parse().map_err(|_| usage())?;
        let window = humantime::parse_duration(window.trim()).map_err(|_| usage())?;
        if misses == 0 || window.is_zero() {
            return Err(format!(
                "both the misses and the window must be more than zero, got {s:?}"
            ));
        }
        Ok(Self { misses, window })
    }
}

/// Addresses with recent misses. Entries older than a window are pruned as the table grows.
#[derive(Debug)]
pub struct GuessGuard {
    limit: GuessLimit,
    windows: Mutex<HashMap<IpAddr, Window>>,
    misses_total: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    misses: u32,
}

/// Addresses tracked before stale entries are swept out.
const SWEEP_ABOVE: usize = 10_000;

impl GuessGuard {
    pub fn new(limit: GuessLimit) -> Self {
        Self {
            limit,
            windows: Mutex::default(),
            misses_total: AtomicU64::new(0),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(retry_after)` when `address` has used up its misses in the current window.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        match self.windows().get(&address) {
            Some(window) if now < window.started + self.limit.window && window.misses >= self.limit.misses => {
                Err(window.started + self.limit.window - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a lookup of an unknown code from `address`.
    pub fn missed(&self, address: IpAddr) {
        self.misses_total.fetch_add(1, Ordering::Relaxed);
        METRICS.code_misses.inc();
        let now = Instant::now();
        let window_length = self.limit.window;
        let mut windows = self.windows();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, window| now < window.started + window_length);
        }
        let window = windows.entry(address).or_insert(Window {
            started: now,
            misses: 0,
        });
        if now >= window.started + window_length {
            *window = Window {
                started: now,
                misses: 0,
            };
        }
        window.misses += 1;
    }

    /// Unknown codes looked up through this guard.
    pub fn misses_total(&self) -> u64 {
        self.misses_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_out_of_misses_is_refused_until_its_window_ends() {
        let guard = GuessGuard::new("3/1m".parse().unwrap());
        let (guesser, other): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(guard.check(guesser).is_ok());
            guard.missed(guesser);
        }
        let retry_after = guard.check(guesser).unwrap_err();
        assert!(retry_after <= Duration::from_secs(60));
        assert!(guard.check(other).is_ok(), "other addresses are not affected");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(guard.check(guesser).is_ok());
        assert_eq!(guard.misses_total(), 3);
    }

    #[test]
    fn limits_are_read_from_the_command_line_form() {
        assert_eq!(
            "5/30s".parse::<GuessLimit>(),
            Ok(GuessLimit {
                misses: 5,
                window: Duration::from_secs(30)
            })
        );
        for bad in ["", "5", "0/1m", "5/0s", "x/1m", "5/soon"] {
            assert!(bad.parse::<GuessLimit>().is_err(), "{bad:?}");
        }
    }
}
