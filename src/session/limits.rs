//! The limits every WebSocket connection shares, as typed values.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// Limits and timers that apply to each WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (and frame) a client may send; beyond it the connection is closed with 1009.
    pub max_message_bytes: usize,
    /// Unsent messages a connection may hold.
    pub queue_capacity: usize,
    /// How long a message for a connection whose queue is full may wait for room before
    /// that connection counts as a slow consumer and is closed with 1013.
    pub slow_consumer_timeout: Duration,
    /// How long a write to a client's socket may stall before the client counts as gone
    /// and is disconnected (its unconfirmed messages count as not delivered).
    pub write_timeout: Duration,
    /// How often the server pings each connection.
    pub ping_interval: Duration,
    /// A connection that sent nothing (no frame, no pong) for this long is closed (4002).
    pub idle_timeout: Duration,
    /// Messages per second a client may send, if limited.
    pub rate_limit: Option<RateLimit>,
    /// WebSocket connections served at once; beyond it upgrades get HTTP 503.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            queue_capacity: 64,
            slow_consumer_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            rate_limit: None,
            max_connections: 100_000,
        }
    }
}

/// `RATE` or `RATE/BURST`: messages per second a connection may send, with a burst
/// allowance (the burst defaults to the rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// The rate limit as a v2 welcome announces it.
impl From<RateLimit> for crate::protocol::v2::RateLimit {
    fn from(limit: RateLimit) -> Self {
        Self {
            per_second: limit.per_second.get(),
            burst: limit.burst.get(),
        }
    }
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let positive = |part: &str, what: &str| {
            part.trim().parse::<NonZeroU32>().map_err(|_| {
                format!("'{s}' is not a rate limit: the {what} must be a whole number of at least 1 (e.g. 20 or 20/40)")
            })
        };
        match s.split_once('/') {
            Some((rate, burst)) => Ok(Self {
                per_second: positive(rate, "rate")?,
                burst: positive(burst, "burst")?,
            }),
            None => {
                let rate = positive(s, "rate")?;
                Ok(Self {
                    per_second: rate,
                    burst: rate,
                })
            }
        }
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.per_second, self.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_welcome_announces_the_rate_limit_as_configured() {
        let limit: RateLimit = "20/40".parse().unwrap();
        let announced = crate::protocol::v2::RateLimit::from(limit);
        assert_eq!((announced.per_second, announced.burst), (20, 40));
    }

    #[test]
    fn reads_rate_and_optional_burst() {
        let plain: RateLimit = "20".parse().unwrap();
        assert_eq!((plain.per_second.get(), plain.burst.get()), (20, 20));
        let burst: RateLimit = "5/50".parse().unwrap();
        assert_eq!((burst.per_second.get(), burst.burst.get()), (5, 50));
        for bad in ["", "0", "x", "5/0", "5/", "-1", "1.5"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
        }
    }
}
