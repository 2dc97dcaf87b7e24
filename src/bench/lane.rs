//! One direction of one pair in `bench relay`: the messages it stamps, and what the
//! receiving end makes of each one that arrives.
//!
//! A message's data is `{"t":T,"n":N}`: `T` is when its latency starts, in nanoseconds
//! since the bench started (both ends live in this process, so one clock serves), `N`
//! its sequence number in its lane. The receiver expects `N` in order: a jump is a gap
//! (the skipped ones may still come, out of order, or be lost), a number below the
//! next expected one is out of order (or a repeat), one never sent is unsolicited.

use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

use super::report::{self, Latencies, latencies};
use std::time::Duration;

/// What the bench puts in a relay message's data, and reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Stamp {
    /// When the message's latency starts, in nanoseconds since the bench started.
    pub t: u64,
    /// Its sequence number in its lane, from 0.
    pub n: u64,
}

/// `{"type":"relay","data":…}` as a v2 peer receives it, with the bench's data: read in
/// one pass (fields the bench did not send, and the padding, are skipped).
#[derive(Deserialize)]
struct Relayed {
    #[serde(rename = "type")]
    kind: RelayTag,
    data: Stamp,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RelayTag {
    Relay,
}

/// The stamp of a received text frame, if it is a relay message of the bench's shape.
pub fn read_text(text: &[u8]) -> Option<Stamp> {
    let relayed: Relayed = serde_json::from_slice(text).ok()?;
    let RelayTag::Relay = relayed.kind;
    Some(relayed.data)
}

/// The stamp of a received binary frame: the data itself.
pub fn read_binary(bytes: &[u8]) -> Option<Stamp> {
    serde_json::from_slice(bytes).ok()
}

/// Writes messages of one shape: text relay messages or binary data, padded to a size.
#[derive(Debug, Clone)]
pub struct Stamper {
    /// The smallest size of a message's data, in bytes.
    payload_bytes: usize,
    binary: bool,
}

impl Stamper {
    pub fn new(payload_bytes: usize, binary: bool) -> Self {
        Self { payload_bytes, binary }
    }

    /// The message carrying `stamp`, its data padded with `"p":"xx…"` to at least
    /// `payload_bytes`.
    pub fn message(&self, stamp: Stamp) -> Message {
        let Stamp { t, n } = stamp;
        let mut data = format!(r#"{{"t":{t},"n":{n}"#);
        // The closing brace, and `,"p":""` around the padding.
        const BRACE: usize = 1;
        const PAD_FIELD: usize = 7;
        let short = self.payload_bytes.saturating_sub(data.len() + BRACE);
        if short > 0 {
            data.push_str(r#","p":""#);
            data.extend(std::iter::repeat_n('x', short.saturating_sub(PAD_FIELD)));
            data.push('"');
        }
        data.push('}');
        if self.binary {
            Message::binary(data)
        } else {
            Message::text(format!(r#"{{"type":"relay","data":{data}}}"#))
        }
    }
}

/// What one lane counted. `sent`, `delivered` and the latencies count only messages
/// stamped inside the measured window; gaps and reordering, the whole run.
#[derive(Debug, Clone)]
pub struct Tally {
    pub sent: u64,
    pub delivered: u64,
    /// Messages skipped when a later one arrived first.
    pub gaps: u64,
    pub out_of_order: u64,
    /// Open loop: messages sent more than the timer's slack after their scheduled time.
    pub late_sends: u64,
    pub latencies: Latencies,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            sent: 0,
            delivered: 0,
            gaps: 0,
            out_of_order: 0,
            late_sends: 0,
            latencies: latencies(),
        }
    }
}

impl Tally {
    /// Adds another lane's counts (of the same direction, or for the total).
    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.gaps += other.gaps;
        self.out_of_order += other.out_of_order;
        self.late_sends += other.late_sends;
        self.latencies
            .add(&other.latencies)
            .expect("auto-resizing histograms take any value");
    }

    /// Sent in the window and not delivered by the end.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.delivered)
    }
}

/// The window, in nanoseconds since the bench started: stamps in `from..to` count.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: u64,
    pub to: u64,
}

impl Window {
    fn contains(&self, t: u64) -> bool {
        (self.from..self.to).contains(&t)
    }
}

/// What a received message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Counted; `true` when stamped inside the window.
    Delivered(bool),
    /// No message with that number was sent in this lane.
    Unsolicited,
}

/// One direction of a pair: what it sent, what it expects next.
#[derive(Debug, Default)]
pub struct Lane {
    /// The number of the next message to send (so: how many were sent).
    next_n: u64,
    /// The number the receiver expects next.
    expected_n: u64,
    pub tally: Tally,
}

impl Lane {
    /// Messages sent and not yet arrived (gaps count as arrived: they will not come in order).
    pub fn outstanding(&self) -> u64 {
        self.next_n - self.expected_n
    }

    /// Stamps the next message with `t`, counting it if `t` is inside `window`.
    pub fn stamp(&mut self, t: u64, window: Window) -> Stamp {
        let stamp = Stamp { t, n: self.next_n };
        self.next_n += 1;
        if window.contains(t) {
            self.tally.sent += 1;
        }
        stamp
    }

    /// The receiver read `stamp` at `now` (nanoseconds since the bench started).
    pub fn arrived(&mut self, stamp: Stamp, now: u64, window: Window) -> Arrival {
        let Stamp { t, n } = stamp;
        if n >= self.next_n {
            return Arrival::Unsolicited;
        }
        if n >= self.expected_n {
            self.tally.gaps += n - self.expected_n;
            self.expected_n = n + 1;
        } else {
            self.tally.out_of_order += 1;
        }
        let measured = window.contains(t);
        if measured {
            self.tally.delivered += 1;
            report::record(&mut self.tally.latencies, Duration::from_nanos(now.saturating_sub(t)));
        }
        Arrival::Delivered(measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Window = Window { from: 0, to: u64::MAX };

    fn text(message: Message) -> String {
        message.into_text().unwrap().to_string()
    }

    #[test]
    fn messages_carry_their_stamp_padded_to_the_payload_size() {
        let stamp = Stamp { t: 1_500, n: 7 };
        let plain = text(Stamper::new(0, false).message(stamp));
        assert_eq!(plain, r#"{"type":"relay","data":{"t":1500,"n":7}}"#);
        assert_eq!(read_text(plain.as_bytes()), Some(stamp));

        for size in [20, 21, 25, 27, 28, 64, 1000] {
            let padded = text(Stamper::new(size, false).message(stamp));
            let data = &padded[r#"{"type":"relay","data":"#.len()..padded.len() - 1];
            let least = size.max(r#"{"t":1500,"n":7}"#.len());
            assert!((least..=least + 7).contains(&data.len()), "{size}: {data}");
            assert_eq!(read_text(padded.as_bytes()), Some(stamp), "{padded}");
        }
        let padded = text(Stamper::new(64, false).message(stamp));
        assert_eq!(padded.len() - r#"{"type":"relay","data":}"#.len(), 64);

        let binary = Stamper::new(0, true).message(stamp);
        assert!(binary.is_binary());
        assert_eq!(read_binary(&binary.into_data()), Some(stamp));
    }

    #[test]
    fn other_messages_are_not_stamps() {
        for other in [
            &br#"{"type":"error","code":"display_offline","message":"gone"}"#[..],
            br#"{"type":"peer","role":"controller","connected":false}"#,
            br#"{"type":"relay","data":{"t":1}}"#,
            br#"{"type":"relay","data":"hello"}"#,
            br#"{"type":"draw","data":{"t":1,"n":2}}"#,
            b"not json",
        ] {
            assert_eq!(read_text(other), None, "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn in_order_arrivals_settle_the_lane() {
        let mut lane = Lane::default();
        let first = lane.stamp(100, ALL);
        let second = lane.stamp(200, ALL);
        assert_eq!(lane.outstanding(), 2);
        assert_eq!(lane.arrived(first, 150, ALL), Arrival::Delivered(true));
        assert_eq!(lane.arrived(second, 260, ALL), Arrival::Delivered(true));
        assert_eq!(lane.outstanding(), 0);
        let tally = &lane.tally;
        assert_eq!(
            (
                tally.sent,
                tally.delivered,
                tally.lost(),
                tally.gaps,
                tally.out_of_order
            ),
            (2, 2, 0, 0, 0)
        );
        assert_eq!(tally.latencies.len(), 2);
    }

    #[test]
    fn a_jump_is_a_gap_a_late_one_out_of_order_an_unsent_one_unsolicited() {
        let mut lane = Lane::default();
        let stamps: Vec<_> = (0..4).map(|i| lane.stamp(i * 10, ALL)).collect();
        assert_eq!(lane.arrived(stamps[2], 50, ALL), Arrival::Delivered(true));
        assert_eq!((lane.tally.gaps, lane.outstanding()), (2, 1));
        assert_eq!(lane.arrived(stamps[0], 60, ALL), Arrival::Delivered(true));
        assert_eq!(lane.tally.out_of_order, 1);
        assert_eq!(lane.arrived(Stamp { t: 0, n: 4 }, 70, ALL), Arrival::Unsolicited);
        assert_eq!(lane.tally.lost(), 2, "1 and 3 never came");
    }

    #[test]
    fn only_messages_stamped_inside_the_window_count() {
        let window = Window { from: 100, to: 200 };
        let mut lane = Lane::default();
        let early = lane.stamp(50, window);
        let inside = lane.stamp(150, window);
        let late = lane.stamp(200, window);
        for (stamp, now) in [(early, 120), (inside, 160), (late, 210)] {
            lane.arrived(stamp, now, window);
        }
        assert_eq!((lane.tally.sent, lane.tally.delivered), (1, 1));
        assert_eq!(lane.tally.latencies.max(), 0, "10 ns, in whole microseconds");
        assert_eq!(lane.outstanding(), 0);
    }
}
