//! Limits how many unknown pairing codes one client address may try: a code is only six
//! characters, so without a limit a script could walk the code space and join other
//! people's displays. The budget is shared by every node (a guesser behind a load
//! balancer reaches them all), so it lives in the backplane: this table for a server
//! alone, a counter per address in Redis for a cluster.
//!
//! Only misses count, and once an address has used up its misses for the current
//! window every lookup from it is refused, hits included; otherwise a guesser would keep
//! guessing and still learn which code is live. A lookup takes its attempt before it
//! looks (so a burst of concurrent guesses cannot all pass the check before the first
//! miss is recorded) and gives it back if the code was live. Written here rather than
//! with `governor` (used for message rates) because this needs to look at the budget
//! without spending it, and governor's keyed limiters only offer check-and-consume.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

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

/// One lookup's claim on its address's budget: a miss unless it is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// The budget it was taken from.
    pub key: IpAddr,
    /// The window it was taken in (a server alone: an attempt from an earlier window is
    /// not given back to a later one).
    window: Option<Instant>,
}

/// The budget an address draws on: IPv6 clients by /64 (one subscriber's network, which
/// hands its devices many addresses), IPv4 (and IPv4-mapped IPv6) by address.
pub fn client_key(address: IpAddr) -> IpAddr {
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

/// A server alone's budgets: addresses with recent misses. Entries older than a window
/// are pruned as the table grows.
#[derive(Debug)]
pub struct GuessTable {
    limit: GuessLimit,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    misses: u32,
}

/// Addresses tracked before stale entries are swept out.
const SWEEP_ABOVE: usize = 10_000;

impl GuessTable {
    pub fn new(limit: GuessLimit) -> Self {
        Self {
            limit,
            windows: Mutex::default(),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes one attempt from `address`'s budget before a lookup, or `Err(retry_after)`
    /// when it has none left in this window.
    pub fn attempt(&self, address: IpAddr) -> Result<Attempt, Duration> {
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
            key,
            window: Some(window.started),
        })
    }

    /// The code was live: the attempt goes back to the budget.
    pub fn give_back(&self, attempt: Attempt) {
        let mut windows = self.windows();
        if let Some(window) = windows.get_mut(&attempt.key) {
            if Some(window.started) == attempt.window {
                window.misses = window.misses.saturating_sub(1);
            }
        }
    }
}

impl Attempt {
    /// An attempt counted elsewhere (Redis), named by its address.
    pub fn counted_for(key: IpAddr) -> Self {
        Self { key, window: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_address_out_of_misses_is_refused_until_its_window_ends() {
        let guard = GuessTable::new("3/1m".parse().unwrap());
        let (guesser, other): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            let _ = guard.attempt(guesser).expect("within the budget");
        }
        let retry_after = guard.attempt(guesser).expect_err("out of misses");
        assert!(retry_after <= Duration::from_secs(60));
        assert!(guard.attempt(other).is_ok(), "other addresses are not affected");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(guard.attempt(guesser).is_ok());
    }

    #[test]
    fn hits_cost_nothing_and_concurrent_attempts_are_counted_at_once() {
        let guard = GuessTable::new("2/1m".parse().unwrap());
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            guard.give_back(guard.attempt(client).unwrap());
        }
        // Two lookups in flight at once use the whole budget: a third is refused.
        let first = guard.attempt(client).unwrap();
        let second = guard.attempt(client).unwrap();
        assert!(guard.attempt(client).is_err());
        let _ = (first, second);
    }

    #[test]
    fn ipv6_clients_share_the_budget_of_their_network() {
        let guard = GuessTable::new("1/1m".parse().unwrap());
        let _ = guard.attempt("2001:db8:1:2::1".parse().unwrap()).unwrap();
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
