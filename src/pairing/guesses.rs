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

/// One lookup's claim on its address's budget; a miss unless [`Attempt::hit`].
#[must_use]
pub struct Attempt<'a> {
    guard: &'a GuessGuard,
    key: IpAddr,
    started: Instant,
    hit: bool,
}

impl Attempt<'_> {
    /// The code was live: the attempt goes back to the budget.
    pub fn hit(mut self) {
        self.hit = true;
        let mut windows = self.guard.windows();
        if let Some(window) = windows.get_mut(&self.key) {
            if window.started == self.started {
                window.misses = window.misses.saturating_sub(1);
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.hit {
            self.guard.misses_total.fetch_add(1, Ordering::Relaxed);
            METRICS.code_misses.inc();
        }
    }
}

/// The budget an address draws on: IPv6 clients by /64 (one subscriber's network, which
/// hands its devices many addresses), IPv4 (and IPv4-mapped IPv6) by address.
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
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

    /// Takes one attempt from `address`'s budget before a lookup, or `Err(retry_after)`
    /// when it has none left in this window. The attempt counts as a miss unless it is
    /// [`Attempt::hit`]: counting before the lookup means a burst of concurrent guesses
    /// cannot all pass the check before the first miss is recorded.
    pub fn attempt(&self, address: IpAddr) -> Result<Attempt<'_>, Duration> {
        let key = client_key(address);
        let now = Instant::now();
        let window_length = self.limit.window;
        let mut windows = self.windows();
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, window| now < window.started + window_length);
        }
        let window = windows.entry(key).or_insert(Window {
            started: now,
            misses: 0,
        });
        if now >= window.started + window_length {
            *window = Window {
                started: now,
                misses: 0,
            };
        }
        if window.misses >= self.limit.misses {
            return Err(window.started + window_length - now);
        }
        window.misses += 1;
        Ok(Attempt {
            guard: self,
            key,
            started: window.started,
            hit: false,
        })
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
            drop(guard.attempt(guesser).expect("within the budget"));
        }
        let retry_after = guard.attempt(guesser).err().expect("out of misses");
        assert!(retry_after <= Duration::from_secs(60));
        assert!(guard.attempt(other).is_ok(), "other addresses are not affected");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(guard.attempt(guesser).is_ok());
        assert_eq!(guard.misses_total(), 5);
    }

    #[test]
    fn hits_cost_nothing_and_concurrent_attempts_are_counted_at_once() {
        let guard = GuessGuard::new("2/1m".parse().unwrap());
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            guard.attempt(client).unwrap().hit();
        }
        // Two lookups in flight at once use the whole budget: a third is refused.
        let first = guard.attempt(client).unwrap();
        let second = guard.attempt(client).unwrap();
        assert!(guard.attempt(client).is_err());
        drop((first, second));
    }

    #[test]
    fn ipv6_clients_share_the_budget_of_their_network() {
        let guard = GuessGuard::new("1/1m".parse().unwrap());
        drop(guard.attempt("2001:db8:1:2::1".parse().unwrap()).unwrap());
        assert!(guard.attempt("2001:db8:1:2::ffff".parse().unwrap()).is_err());
        assert!(guard.attempt("2001:db8:1:3::1".parse().unwrap()).is_ok());
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
