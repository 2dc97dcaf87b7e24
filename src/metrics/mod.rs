//! Prometheus metrics, served at `GET /metrics`.
//!
//! Every handle is created once, when the process first touches [`METRICS`]: the label
//! sets are all known up front (endpoints, roles, error codes, close codes), so counting
//! a message is an array index and an atomic add, never a map lookup. The registry is
//! process-wide, as Prometheus expects of one process.

pub mod throughput;

use std::sync::LazyLock;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::protocol::ErrorCode;

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// What a connection is, for its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Display,
    Controller,
    Echo,
    ChatHub,
    Room,
    Signal,
}

impl Kind {
    /// Every kind, in declaration order: a kind's index into the handles.
    pub const ALL: [Kind; 6] = [
        Kind::Display,
        Kind::Controller,
        Kind::Echo,
        Kind::ChatHub,
        Kind::Room,
        Kind::Signal,
    ];

    /// The endpoint label, also used in logs.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::Display | Kind::Controller => "pairing",
            Kind::Echo => "echo",
            Kind::ChatHub => "hub",
            Kind::Room => "rooms",
            Kind::Signal => "signal",
        }
    }

    /// The role label, also used in logs.
    pub fn role(self) -> &'static str {
        match self {
            Kind::Display => "display",
            Kind::Controller => "controller",
            Kind::Echo => "client",
            Kind::ChatHub | Kind::Room => "member",
            Kind::Signal => "peer",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    endpoint: &'static str,
    role: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

/// The handles of one kind of connection.
#[derive(Debug)]
pub struct ConnectionMetrics {
    /// Connections open now (from admission to the end of the closing handshake).
    pub open: Gauge,
    /// Data messages received from clients.
    pub received: Counter,
    /// Messages written to clients.
    pub sent: Counter,
}

/// The close codes pairlink sends, each with its own counter.
const CLOSE_CODES: [u16; 8] = crate::protocol::close::CODES;

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: Vec<ConnectionMetrics>,
    errors: Vec<Counter>,
    closes: Vec<Counter>,
    /// Controller draws held for an offline display (`--hold-for`).
    pub held: Gauge,
    /// From a controller's difficulty to its answer: drawn, delivered to the display's
    /// socket (or held).
    pub draw_seconds: Histogram,
    /// Lookups of unknown pairing codes.
    pub code_misses: Counter,
    /// Commands and publishes sent to Redis (scale-out).
    pub redis_round_trips: Counter,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("pairlink");
        let open = Family::<ConnectionLabels, Gauge>::default();
        let received = Family::<ConnectionLabels, Counter>::default();
        let sent = Family::<ConnectionLabels, Counter>::default();
        let connections = Kind::ALL
            .iter()
            .map(|kind| {
                let labels = ConnectionLabels {
                    endpoint: kind.endpoint(),
                    role: kind.role(),
                };
                ConnectionMetrics {
                    open: open.get_or_create(&labels).clone(),
                    received: received.get_or_create(&labels).clone(),
                    sent: sent.get_or_create(&labels).clone(),
                }
            })
            .collect();
        registry.register("connections", "WebSocket connections open now", open);
        registry.register("messages_received", "Data messages received from clients", received);
        registry.register("messages_sent", "Messages written to clients", sent);

        let errors_family = Family::<CodeLabels, Counter>::default();
        let errors = ErrorCode::ALL
            .iter()
            .map(|code| {
                let labels = CodeLabels {
                    code: code.as_str().to_owned(),
                };
                errors_family.get_or_create(&labels).clone()
            })
            .collect();
        registry.register(
            "errors",
            "Error answers sent, in-band and before the upgrade, by code",
            errors_family,
        );

        let closes_family = Family::<CodeLabels, Counter>::default();
        let closes = CLOSE_CODES
            .iter()
            .map(|code| {
                let labels = CodeLabels { code: code.to_string() };
                closes_family.get_or_create(&labels).clone()
            })
            .collect();
        registry.register("closes", "Close frames sent to clients, by close code", closes_family);

        let held = Gauge::default();
        registry.register("held_messages", "Draws held for an offline display", held.clone());
        let draw_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "draw_duration_seconds",
            "From a controller's difficulty to its answer (draw and delivery to the display)",
            draw_seconds.clone(),
        );
        let code_misses = Counter::default();
        registry.register(
            "pairing_code_misses",
            "Lookups of unknown pairing codes (guesses)",
            code_misses.clone(),
        );
        let redis_round_trips = Counter::default();
        registry.register(
            "redis_round_trips",
            "Commands and publishes sent to Redis (with --redis-url)",
            redis_round_trips.clone(),
        );
        Self {
            redis_round_trips,
            registry,
            connections,
            errors,
            closes,
            held,
            draw_seconds,
            code_misses,
        }
    }

    pub fn connection(&self, kind: Kind) -> &ConnectionMetrics {
        &self.connections[kind as usize]
    }

    /// Counts an error answer.
    pub fn error(&self, code: ErrorCode) {
        self.errors[code as usize].inc();
    }

    /// Counts a close frame sent.
    pub fn close(&self, code: u16) {
        if let Some(i) = CLOSE_CODES.iter().position(|known| *known == code) {
            self.closes[i].inc();
        }
    }

    pub fn observe_draw(&self, elapsed: Duration) {
        self.draw_seconds.observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// `GET /metrics`.
pub async fn serve_metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        METRICS.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_set_is_exposed_before_anything_happens() {
        let text = METRICS.render();
        for kind in Kind::ALL {
            let series = format!(
                "pairlink_connections{{endpoint=\"{}\",role=\"{}\"}}",
                kind.endpoint(),
                kind.role()
            );
            assert!(text.contains(&series), "{series} missing from:\n{text}");
        }
        assert!(text.contains("pairlink_errors_total{code=\"display_offline\"}"));
        assert!(text.contains("pairlink_closes_total{code=\"4001\"}"));
        assert!(text.contains("pairlink_draw_duration_seconds_bucket"));
    }

    #[test]
    fn error_codes_index_their_counters() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(*code as usize, i, "ErrorCode::ALL is in declaration order");
        }
    }
}
