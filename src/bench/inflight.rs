//! One pair's requests in flight, and how replies are matched to them.
//!
//! A round trip is done when the controller has its answer *and* the display has its
//! draw; the two arrive on different sockets, in either order. Both sides answer in
//! the order the requests were sent, so matching is FIFO: acknowledgements match
//! requests in turn, and the display's draws match the acknowledged requests in turn
//! (a refused request gets no draw). A draw may arrive before its acknowledgement;
//! it then waits for it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// A finished round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTrip {
    /// From the request's intended send time until the later of its two replies.
    pub latency: Duration,
    /// Whether its draw had the protocol's shape.
    pub well_formed: bool,
}

/// What an incoming message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Done(RoundTrip),
    /// Matched, but the round trip still waits for its other reply.
    Waiting,
    /// Nothing was waiting for this message.
    Unsolicited,
}

#[derive(Debug, Default)]
pub struct InFlight {
    /// Intended send times of requests not yet answered on the controller.
    awaiting_ack: VecDeque<Instant>,
    /// Acknowledged requests waiting for their draw: (intended send time, ack arrival).
    awaiting_draw: VecDeque<(Instant, Instant)>,
    /// Draws that came before their acknowledgement: (arrival, well formed).
    early_draws: VecDeque<(Instant, bool)>,
}

impl InFlight {
    /// A request was sent (or was due) at `intended`.
    pub fn sent(&mut self, intended: Instant) {
        self.awaiting_ack.push_back(intended);
    }

    /// Requests not yet finished.
    pub fn len(&self) -> usize {
        self.awaiting_ack.len() + self.awaiting_draw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The intended send time of the oldest unfinished request.
    pub fn oldest(&self) -> Option<Instant> {
        // Acknowledged requests were sent before any still awaiting an acknowledgement.
        self.awaiting_draw
            .front()
            .map(|&(intended, _)| intended)
            .or_else(|| self.awaiting_ack.front().copied())
    }

    /// The controller was told "received" at `at`.
    pub fn received(&mut self, at: Instant) -> Matched {
        let Some(intended) = self.awaiting_ack.pop_front() else {
            return Matched::Unsolicited;
        };
        match self.early_draws.pop_front() {
            Some((_, well_formed)) => Matched::Done(RoundTrip {
                latency: at - intended,
                well_formed,
            }),
            None => {
                self.awaiting_draw.push_back((intended, at));
                Matched::Waiting
            }
        }
    }

    /// The controller was answered with anything but "received": that request is over
    /// and its display gets nothing.
    pub fn refused(&mut self) -> Matched {
        match self.awaiting_ack.pop_front() {
            Some(_) => Matched::Waiting,
            None => Matched::Unsolicited,
        }
    }

    /// The display received a draw at `at`.
    pub fn drawn(&mut self, at: Instant, well_formed: bool) -> Matched {
        if let Some((intended, _acked)) = self.awaiting_draw.pop_front() {
            return Matched::Done(RoundTrip {
                latency: at - intended,
                well_formed,
            });
        }
        // More early draws than unacknowledged requests: no request can claim this one.
        if self.early_draws.len() >= self.awaiting_ack.len() {
            return Matched::Unsolicited;
        }
        self.early_draws.push_back((at, well_formed));
        Matched::Waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn done(latency: Duration) -> Matched {
        Matched::Done(RoundTrip {
            latency,
            well_formed: true,
        })
    }

    #[test]
    fn a_round_trip_ends_with_the_later_reply_in_either_order() {
        let t0 = Instant::now();
        let mut flight = InFlight::default();
        flight.sent(t0);
        assert_eq!(flight.received(t0 + ms(2)), Matched::Waiting);
        assert_eq!(flight.drawn(t0 + ms(3), true), done(ms(3)));

        flight.sent(t0 + ms(10));
        assert_eq!(flight.drawn(t0 + ms(12), true), Matched::Waiting);
        assert_eq!(flight.received(t0 + ms(15)), done(ms(5)));
        assert!(flight.is_empty());
    }

    #[test]
    fn several_in_flight_match_in_order_and_refusals_get_no_draw() {
        let t0 = Instant::now();
        let mut flight = InFlight::default();
        for i in 0..3 {
            flight.sent(t0 + ms(i));
        }
        assert_eq!(flight.oldest(), Some(t0));
        assert_eq!(flight.refused(), Matched::Waiting);
        assert_eq!(flight.oldest(), Some(t0 + ms(1)));
        assert_eq!(flight.drawn(t0 + ms(20), false), Matched::Waiting);
        assert_eq!(
            flight.received(t0 + ms(21)),
            Matched::Done(RoundTrip {
                latency: ms(20),
                well_formed: false
            })
        );
        assert_eq!(flight.received(t0 + ms(22)), Matched::Waiting);
        assert_eq!(flight.drawn(t0 + ms(30), true), done(ms(28)));
        assert!(flight.is_empty());
    }

    #[test]
    fn replies_nobody_waits_for_are_unsolicited() {
        let t0 = Instant::now();
        let mut flight = InFlight::default();
        assert_eq!(flight.received(t0), Matched::Unsolicited);
        assert_eq!(flight.refused(), Matched::Unsolicited);
        assert_eq!(flight.drawn(t0, true), Matched::Unsolicited);
        flight.sent(t0);
        assert_eq!(flight.drawn(t0, true), Matched::Waiting);
        assert_eq!(flight.drawn(t0, true), Matched::Unsolicited);
    }
}
