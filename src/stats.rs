//! `GET /api/stats`: what the server is doing right now, as JSON, for the web console's
//! status panel and for anyone's quick `curl`.
//!
//! The counts come from this node's [`Hub`](crate::hub::Hub) and from [`Sessions`](crate::session::Sessions);
//! the message rate from a [`Throughput`](crate::metrics::throughput::Throughput) sampler that reads the Prometheus counters once
//! a second. `/metrics` stays the place for monitoring; this is the at-a-glance view.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::hub::Census;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stats", get(stats))
}

/// The body of `GET /api/stats`: the hub's counts, then this process's. Every field
/// is of this moment; `docs/console.md` defines each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub census: Census,
    /// Every WebSocket connection open, whatever its endpoint (echo included).
    pub connections: usize,
    /// Data messages received from clients plus messages written to clients, on every
    /// endpoint, during the last whole second sampled.
    pub messages_per_second: f64,
    /// Whole seconds since the server started.
    pub uptime_seconds: u64,
}

async fn stats(State(app): State<AppState>) -> impl IntoResponse {
    let stats = Stats {
        census: app.hub.census(),
        connections: app.sessions.open(),
        messages_per_second: app.throughput.per_second(),
        uptime_seconds: app.throughput.uptime().as_secs(),
    };
    // Live numbers: a cached copy would be wrong a second later.
    ([(header::CACHE_CONTROL, "no-store")], Json(stats))
}
