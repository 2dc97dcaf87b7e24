//! The figures of `bench relay`, as one serialisable struct (`--json`) and the human
//! summary printed at the end (its `Display`).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::lane::Tally;
use super::relay::Directions;
use super::report::{Errors, LatencySummary, Pacing, servers};

/// The result of `bench relay`.
#[derive(Debug, Clone, Serialize)]
pub struct RelayReport {
    pub url: String,
    /// Where the controllers connected, when not to `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_url: Option<String>,
    pub pacing: Pacing,
    pub pairs: usize,
    pub pairs_connected: usize,
    /// Controllers refused (display not yet registered) that tried again.
    pub controller_retries: u64,
    pub directions: Directions,
    /// Open loop: messages per second each pair sends in each direction.
    pub rate_per_pair: Option<f64>,
    /// The smallest size of a message's data, in bytes (0: unpadded).
    pub payload_bytes: usize,
    /// Whether the data went as binary frames rather than text relay messages.
    pub binary: bool,
    pub warmup_s: f64,
    /// The measured window, after the warm-up.
    pub duration_s: f64,
    /// Both directions together.
    pub total: Flow,
    /// Controller → display, when it sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_display: Option<Flow>,
    /// Display → controller, when it sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_controller: Option<Flow>,
    /// One per `--pid`, in the order given: CPU used in the measured window.
    pub servers: Vec<ServerCpu>,
    /// The servers' CPU time in the window, summed, per message delivered in it.
    pub server_cpu_us_per_message: Option<f64>,
    pub errors_total: u64,
    pub errors: Errors,
}

/// One direction's figures, or both together.
#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    /// Messages stamped in the window and sent (late ones from their schedule on).
    pub sent: u64,
    /// Of those, the ones that arrived.
    pub delivered: u64,
    pub delivered_per_s: f64,
    /// `sent - delivered`: never arrived, by the end of the run.
    pub lost: u64,
    /// Over the whole run: messages skipped when a later one arrived first.
    pub gaps: u64,
    /// Over the whole run: messages that came after a later one (or twice).
    pub out_of_order: u64,
    /// Open loop: messages sent over 2 ms after their scheduled time (a pair with many
    /// in flight, or the client out of CPU); their latency counts from the schedule.
    pub late_sends: u64,
    /// From the send (open loop: the schedule) to the other side's read, in microseconds.
    pub latency_us: LatencySummary,
}

impl Flow {
    pub fn new(tally: &Tally, window: Duration) -> Self {
        let seconds = window.as_secs_f64();
        Self {
            sent: tally.sent,
            delivered: tally.delivered,
            delivered_per_s: if seconds > 0.0 {
                (tally.delivered as f64 / seconds * 10.0).round() / 10.0
            } else {
                0.0
            },
            lost: tally.lost(),
            gaps: tally.gaps,
            out_of_order: tally.out_of_order,
            late_sends: tally.late_sends,
            latency_us: LatencySummary::from(&tally.latencies),
        }
    }
}

/// One server's CPU time in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerCpu {
    pub pid: u32,
    /// User and system time, to 10 ms.
    pub cpu_s: f64,
}

impl fmt::Display for RelayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pacing = match self.rate_per_pair {
            Some(rate) => format!("open loop at {rate}/s per pair"),
            None => "closed loop".to_owned(),
        };
        let way = match self.directions {
            Directions::Both => "each way",
            Directions::ToDisplay => "controller to display",
            Directions::ToController => "display to controller",
        };
        let frames = if self.binary { "binary" } else { "text" };
        let size = match self.payload_bytes {
            0 => String::new(),
            bytes => format!(", data padded to {bytes} B"),
        };
        writeln!(
            f,
            "bench relay: {} of {} pairs on {}, {pacing} {way}, {frames}{size}, {:.1} s measured after {:.1} s warm-up",
            self.pairs_connected,
            self.pairs,
            servers(&self.url, self.controller_url.as_deref()),
            self.duration_s,
            self.warmup_s
        )?;
        let late = self.rate_per_pair.is_some();
        flow(f, "delivered", &self.total, late)?;
        for (name, one) in [("to display", &self.to_display), ("to controller", &self.to_controller)] {
            if let (Some(one), Directions::Both) = (one, self.directions) {
                flow(f, name, one, late)?;
            }
        }
        if self.controller_retries > 0 {
            writeln!(
                f,
                "  retries        {} controllers were refused (display not yet registered) and tried again",
                self.controller_retries
            )?;
        }
        for ServerCpu { pid, cpu_s } in &self.servers {
            writeln!(f, "  server CPU     pid {pid}: {cpu_s:.2} s in the window")?;
        }
        if let Some(per) = self.server_cpu_us_per_message {
            writeln!(f, "  server CPU     {per:.2} µs per message delivered")?;
        }
        write!(f, "  errors         {}", self.errors)
    }
}

/// Two lines for a flow: its counts, then its latency.
fn flow(f: &mut fmt::Formatter<'_>, name: &str, flow: &Flow, late: bool) -> fmt::Result {
    write!(
        f,
        "  {name:<14} {} of {} sent ({:.1}/s), {} lost, {} gaps, {} out of order",
        flow.delivered, flow.sent, flow.delivered_per_s, flow.lost, flow.gaps, flow.out_of_order
    )?;
    if late {
        write!(f, ", {} sent late", flow.late_sends)?;
    }
    let l = &flow.latency_us;
    writeln!(
        f,
        "\n  {:<14} latency (µs) p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {:.1}",
        "", l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean
    )
}
