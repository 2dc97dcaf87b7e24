//! The figures a bench run produces, as serialisable structs (`--json`) and as the
//! human summary printed at the end (their `Display`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Round-trip latencies in microseconds. Each pair's task fills its own; they are
/// merged at the end. Counts are `u32` to halve the memory of a histogram per pair.
pub type Latencies = Histogram<u32>;

/// A histogram that grows to fit whatever it records, at 3 significant figures.
pub fn latencies() -> Latencies {
    Histogram::new(3).expect("3 significant figures is a valid precision")
}

/// Records one latency. (`saturating_record` would clamp to the current range instead
/// of growing it, hiding every latency above the first 2 ms.)
pub fn record(latencies: &mut Latencies, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    if latencies.record(micros).is_err() {
        latencies.saturating_record(micros);
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

impl From<&Latencies> for LatencySummary {
    fn from(histogram: &Latencies) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p99_9: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: (histogram.mean() * 10.0).round() / 10.0,
        }
    }
}

/// What went wrong, by kind, over the whole run (warm-up included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Errors {
    /// Errors by code: `{"status":"error"}` answers to the controller (`bench pairs`),
    /// `{"type":"error"}` events to either side (`bench relay`).
    pub error_replies: BTreeMap<String, u64>,
    /// Display messages that were not a draw of 1–3 distinct quiz ids and an action id
    /// (`bench relay`: neither the bench's relay data nor an event it knows).
    pub malformed_display_messages: u64,
    /// Controller answers that were neither "received" nor an error (`bench relay`: as
    /// for the display).
    pub malformed_replies: u64,
    /// Messages no outstanding request was waiting for (`bench relay`: relay data never
    /// sent, and news of the other side coming or going mid-run).
    pub unsolicited_messages: u64,
    /// Pairs that could not connect, or whose connection failed or was closed mid-run.
    pub connection_failures: u64,
    /// Requests still unanswered after `--timeout` (their pair stops there).
    pub timeouts: u64,
    /// The first problem seen, to start looking from.
    pub first: Option<String>,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.error_replies.values().sum::<u64>()
            + self.malformed_display_messages
            + self.malformed_replies
            + self.unsolicited_messages
            + self.connection_failures
            + self.timeouts
    }

    /// Keeps `description` if it is the first problem seen.
    pub fn note(&mut self, description: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(description());
        }
    }

    pub fn merge(&mut self, other: Errors) {
        for (code, count) in other.error_replies {
            *self.error_replies.entry(code).or_default() += count;
        }
        self.malformed_display_messages += other.malformed_display_messages;
        self.malformed_replies += other.malformed_replies;
        self.unsolicited_messages += other.unsolicited_messages;
        self.connection_failures += other.connection_failures;
        self.timeouts += other.timeouts;
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total() == 0 {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        for (code, count) in &self.error_replies {
            parts.push(format!("{count} error replies ({code})"));
        }
        for (count, kind) in [
            (self.malformed_display_messages, "malformed display messages"),
            (self.malformed_replies, "malformed controller messages"),
            (self.unsolicited_messages, "unsolicited messages"),
            (self.connection_failures, "connection failures"),
            (self.timeouts, "timeouts"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {kind}"));
            }
        }
        write!(f, "{} total: {}", self.total(), parts.join(", "))?;
        if let Some(first) = &self.first {
            write!(f, "\n  first error    {first}")?;
        }
        Ok(())
    }
}

/// How requests were paced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pacing {
    /// Each pair sends its next request once the previous round trip is done.
    ClosedLoop,
    /// Requests go out on a fixed schedule; latency counts from the scheduled time.
    OpenLoop,
}

/// The result of `bench pairs`.
#[derive(Debug, Clone, Serialize)]
pub struct PairsReport {
    pub url: String,
    /// Where the controllers connected, when not to `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_url: Option<String>,
    pub pacing: Pacing,
    pub pairs: usize,
    pub pairs_connected: usize,
    /// Controllers refused with HTTP 400 (display not registered yet) that tried again.
    pub controller_retries: u64,
    pub difficulty: i64,
    /// Round trips per second asked for, all pairs together (open loop only).
    pub target_rate: Option<f64>,
    pub warmup_s: f64,
    /// The measured window, after the warm-up.
    pub duration_s: f64,
    /// Requests sent (or due, in open loop) in the window.
    pub requests: u64,
    /// Open loop: requests sent over 2 ms after their scheduled time, because their pair
    /// had its most requests in flight or the client fell behind. Their latency counts
    /// from the schedule; many of them mean the client, not the server, set the pace.
    pub late_requests: u64,
    /// Round trips completed in the window, both replies well formed.
    pub round_trips: u64,
    pub round_trips_per_s: f64,
    pub latency_us: LatencySummary,
    pub errors_total: u64,
    pub errors: Errors,
}

impl fmt::Display for PairsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pacing = match self.target_rate {
            Some(rate) => format!("open loop at {rate}/s"),
            None => "closed loop".to_owned(),
        };
        writeln!(
            f,
            "bench pairs: {} of {} pairs on {}, {pacing}, difficulty {}, {:.1} s measured after {:.1} s warm-up",
            self.pairs_connected,
            self.pairs,
            servers(&self.url, self.controller_url.as_deref()),
            self.difficulty,
            self.duration_s,
            self.warmup_s
        )?;
        write!(
            f,
            "  round trips    {} ({:.1}/s; {} requests",
            self.round_trips, self.round_trips_per_s, self.requests
        )?;
        if self.target_rate.is_some() {
            write!(f, ", {} sent late", self.late_requests)?;
        }
        writeln!(f, ")")?;
        retries(f, self.controller_retries)?;
        let l = &self.latency_us;
        writeln!(
            f,
            "  latency (µs)   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {:.1}",
            l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean
        )?;
        write!(f, "  errors         {}", self.errors)
    }
}

/// The result of `bench idle`.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub url: String,
    /// Where the controllers connected, when not to `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_url: Option<String>,
    pub pairs: usize,
    pub pairs_opened: usize,
    pub connections_opened: usize,
    /// Controllers refused with HTTP 400 (display not registered yet) that tried again.
    pub controller_retries: u64,
    /// Seconds spent opening the pairs.
    pub open_s: f64,
    pub connections_per_s: f64,
    pub hold_s: f64,
    /// Pairs whose display or controller was closed during the hold.
    pub pairs_dropped: usize,
    /// One per `--pid`, in the order given.
    pub servers: Vec<ServerMemory>,
    /// The servers' RSS before the first connection, summed.
    pub server_rss_before_kib: Option<u64>,
    /// The servers' RSS after the last connection, summed.
    pub server_rss_after_kib: Option<u64>,
    /// The servers' summed RSS growth divided by the connections opened.
    pub server_kib_per_connection: Option<f64>,
    pub errors_total: u64,
    pub errors: Errors,
}

/// One server's resident memory before the first connection and after the last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerMemory {
    pub pid: u32,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

impl ServerMemory {
    /// `field` summed over `servers`; `None` when no server was measured.
    pub fn sum(servers: &[Self], field: impl Fn(&Self) -> u64) -> Option<u64> {
        (!servers.is_empty()).then(|| servers.iter().map(field).sum())
    }

    /// The servers' summed growth per connection; `None` when no server was measured.
    pub fn per_connection(servers: &[Self], connections: usize) -> Option<f64> {
        let before = Self::sum(servers, |server| server.rss_before_kib)?;
        let after = Self::sum(servers, |server| server.rss_after_kib)?;
        Some((after as f64 - before as f64) / connections.max(1) as f64)
    }
}

impl fmt::Display for IdleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bench idle: {} of {} pairs ({} connections) opened on {} in {:.1} s ({:.0} connections/s)",
            self.pairs_opened,
            self.pairs,
            self.connections_opened,
            servers(&self.url, self.controller_url.as_deref()),
            self.open_s,
            self.connections_per_s
        )?;
        writeln!(
            f,
            "  held           {:.1} s, {} pairs dropped meanwhile",
            self.hold_s, self.pairs_dropped
        )?;
        retries(f, self.controller_retries)?;
        for ServerMemory {
            pid,
            rss_before_kib,
            rss_after_kib,
        } in &self.servers
        {
            writeln!(
                f,
                "  server RSS     pid {pid}: {rss_before_kib} KiB before, {rss_after_kib} KiB after"
            )?;
        }
        if let Some(per) = self.server_kib_per_connection {
            let over = if self.servers.len() > 1 {
                " over all servers"
            } else {
                ""
            };
            writeln!(f, "  server memory  {per:.2} KiB per connection{over}")?;
        }
        write!(f, "  errors         {}", self.errors)
    }
}

/// Where a bench connected: `URL`, or `URL (controllers on URL)`.
pub fn servers(url: &str, controller_url: Option<&str>) -> String {
    match controller_url {
        Some(controller_url) => format!("{url} (controllers on {controller_url})"),
        None => url.to_owned(),
    }
}

/// A line for controllers that got in only on a later try, if any did.
fn retries(f: &mut fmt::Formatter<'_>, count: u64) -> fmt::Result {
    if count == 0 {
        return Ok(());
    }
    writeln!(
        f,
        "  retries        {count} controllers were refused (HTTP 400, display not yet registered) and tried again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_grow_to_fit_and_summarise_in_microseconds() {
        let mut latencies = latencies();
        for millis in 1..=100 {
            record(&mut latencies, Duration::from_millis(millis));
        }
        let summary = LatencySummary::from(&latencies);
        assert_eq!(summary.max, 100_031, "the largest value, to 3 significant figures");
        assert!((49_900..=50_100).contains(&summary.p50), "{summary:?}");
        assert!((98_900..=99_100).contains(&summary.p99), "{summary:?}");
    }

    #[test]
    fn errors_add_up_and_keep_the_first_problem() {
        let mut a = Errors::default();
        a.error_replies.insert("no_content".to_owned(), 2);
        a.note(|| "first".to_owned());
        let mut b = Errors {
            timeouts: 1,
            ..Errors::default()
        };
        b.note(|| "second".to_owned());
        a.merge(b);
        assert_eq!(a.total(), 3);
        assert_eq!(a.first.as_deref(), Some("first"));
        assert_eq!(Errors::default().to_string(), "none");
    }
}
