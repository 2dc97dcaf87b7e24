//! `GET /echo`: every text and binary message comes back unchanged to its sender (seed
//! 002). Handy for checking a network path, measuring latency, and for the Autobahn
//! protocol conformance suite. Same limits and keepalive as every connection.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use tungstenite::Message;

use crate::auth::{self, Scope, Token};
use crate::metrics::Kind;
use crate::protocol::{Frame, Version};
use crate::session::{Handler, Upgrade, require_upgrade};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/echo", get(echo))
}

async fn echo(State(app): State<AppState>, token: Token, version: Version, upgrade: Upgrade) -> Response {
    if let Err(refusal) = auth::authorize(app.auth.as_ref(), &token, Scope::Echo) {
        return refusal.respond(version, upgrade);
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    let admission = match app.sessions.admit(Kind::Echo) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.respond(version, Ok(upgrade)),
    };
    let (_outbox, reader) = app.sessions.outbox();
    admission.upgrade(version, upgrade, reader, Echo)
}

struct Echo;

impl Handler for Echo {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        Some(message.into())
    }

    async fn on_end(&mut self) {}
}
