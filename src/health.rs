//! `GET /healthz` (the process serves HTTP) and `GET /readyz` (it can do its work: the
//! database answers, Redis too when scale-out is on, and the server is not shutting down), for load balancers and
//! orchestrators: a node that is not ready should get no new clients.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

/// How long the database may take to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ready(State(app): State<AppState>) -> Response {
    let database = match tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(app.db.pool())).await {
        Ok(Ok(_)) => "ok".to_owned(),
        Ok(Err(err)) => format!("error: {err}"),
        Err(_) => format!("error: no answer within {} s", PROBE_TIMEOUT.as_secs()),
    };
    let broker = match app.hub.backplane().readiness().await {
        Ok(()) => "ok".to_owned(),
        Err(err) => format!("error: {err}"),
    };
    let shutting_down = app.sessions.shutdown_token().is_cancelled();
    let ready = database == "ok" && broker == "ok" && !shutting_down;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": { "database": database, "broker": broker, "shutting_down": shutting_down },
    });
    (status, Json(body)).into_response()
}
