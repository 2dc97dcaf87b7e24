//! `GET /ws/signal/{room}`: WebRTC signaling (seed 001, with rooms as matchbox and
//! PeerJS have them). Peers in a room learn each other's ids and pass offers, answers and
//! ICE candidates by id; the media and data then flow peer to peer, not through pairlink.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use tungstenite::Message;

use crate::address::Group;
use crate::auth::{self, Scope, Token};
use crate::hub::{Roster, SendError};
use crate::membership::{self, Entry, Membership};
use crate::protocol::rooms::MemberCard;
use crate::protocol::signaling::{Signal, SignalEvent, unknown_peer};
use crate::protocol::{ClientId, ErrorCode, EventError, Frame, Version};
use crate::rooms::room_name;
use crate::session::{Handler, RateLimit, Upgrade, error_message, rate_limited_message, require_upgrade};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/signal/{room}", get(join))
}

async fn join(
    Path(room): Path<String>,
    State(app): State<AppState>,
    token: Token,
    version: Version,
    upgrade: Upgrade,
) -> Response {
    let room = match room_name(&room) {
        Ok(room) => room,
        Err(refusal) => return refusal.respond(version, upgrade),
    };
    if let Err(refusal) = auth::authorize(app.auth.as_ref(), &token, Scope::Signal(room.clone())) {
        return refusal.respond(version, upgrade);
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    let id = ClientId::random();
    let welcome = move |roster: &Roster| {
        let peers: Vec<ClientId> = roster.others.iter().flatten().map(|card| card.id).collect();
        Message::Text(SignalEvent::Welcome { id, peers: &peers }.to_json().into())
    };
    let entry = Entry {
        group: Group::Signal(room.clone()),
        card: MemberCard { id, name: None },
        since: None,
        welcome: Some(Box::new(welcome)),
        notice: Some(Message::Text(SignalEvent::PeerJoined { id }.to_json().into())),
        farewell: Some(Message::Text(SignalEvent::PeerLeft { id }.to_json().into())),
        wants_notices: true,
    };
    membership::accept(&app, version, upgrade, entry, |membership| SignalPeer { membership }).await
}

struct SignalPeer {
    membership: Membership,
}

impl Handler for SignalPeer {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let Frame::Text(data) = message else {
            return Some(error_message(&EventError::binary_unsupported()));
        };
        let Membership { hub, group, id, .. } = &self.membership;
        let signal = match Signal::parse(data.as_str(), *id) {
            Ok(signal) => signal,
            Err(error) => return Some(error_message(&error)),
        };
        let relayed = Message::Text(signal.relayed.into());
        match hub.deliver_to_member(group, signal.target, relayed).await {
            Ok(()) => None,
            Err(SendError::Unavailable) => Some(error_message(&EventError::broker_unavailable())),
            // Gone, or being closed as a slow consumer: either way it is leaving the room.
            Err(_) => Some(error_message(&unknown_peer(&signal.target.to_string()))),
        }
    }

    async fn on_end(&mut self) {
        self.membership.leave().await;
    }

    /// Signaling errors are typed events.
    fn rate_limited(&self, _message: &Frame, limit: RateLimit) -> Message {
        error_message(&EventError::new(ErrorCode::RateLimited, rate_limited_message(limit)))
    }
}
