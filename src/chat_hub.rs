//! `GET /ws`: the chat hub of seeds 002 and 004. Every message a client sends, text or
//! binary, goes unchanged to every connected client, the sender included, in one order
//! that all of them see.
//!
//! Slow clients: the hub never waits for anyone. A client whose queue fills up (it
//! stopped reading while others kept talking) is closed with 1013; the others go on.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use tungstenite::Message;

use crate::address::Group;
use crate::auth::{self, Scope, Token};
use crate::backplane::Publication;
use crate::membership::{self, Entry, Membership};
use crate::protocol::rooms::MemberCard;
use crate::protocol::{ClientId, ErrorCode, EventError, Frame, Version};
use crate::session::{Handler, RateLimit, Upgrade, error_message, rate_limited_message, require_upgrade};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws", get(hub))
}

async fn hub(State(app): State<AppState>, token: Token, version: Version, upgrade: Upgrade) -> Response {
    if let Err(refusal) = auth::authorize(app.auth.as_ref(), &token, Scope::Hub) {
        return refusal.respond(version, upgrade);
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    let entry = Entry {
        group: Group::ChatHub,
        card: MemberCard {
            id: ClientId::random(),
            name: None,
        },
        since: None,
        welcome: None,
        notice: None,
        farewell: None,
        wants_notices: false,
    };
    membership::accept(&app, version, upgrade, entry, |membership| HubClient { membership }).await
}

struct HubClient {
    membership: Membership,
}

impl Handler for HubClient {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let Membership { hub, group, .. } = &self.membership;
        match hub.publish(group, Publication::Plain(message.into())).await {
            Ok(_) => None,
            Err(_) => Some(error_message(&EventError::broker_unavailable())),
        }
    }

    /// The hub's errors are typed events, as its other error is.
    fn rate_limited(&self, _message: &Frame, limit: RateLimit) -> Message {
        error_message(&EventError::new(ErrorCode::RateLimited, rate_limited_message(limit)))
    }

    async fn on_end(&mut self) {
        self.membership.leave().await;
    }
}
