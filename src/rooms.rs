//! `GET /ws/rooms/{room}`: chat rooms with members, sequence numbers and recovery
//! (seed 003's rooms, done so that nothing is lost or seen twice).
//!
//! A member sends any JSON value as a text frame; every member, the sender included,
//! receives it wrapped with the room's next `seq`. The room keeps its last messages
//! (`--room-history`), so a client that lost its connection rejoins with `?since=SEQ`
//! and gets every message after SEQ before the live ones, with no gap and no duplicate.
//!
//! Presence scales with the room: up to `--room-notices-up-to` members a joiner is shown
//! every member and told of each join and leave (unless it asks `?notices=false`);
//! past it, a joiner learns only the count, and asks `{"type":"roster"}` for the members
//! when it wants them. Telling everyone of everyone costs the square of the room's size.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tungstenite::Message;

use crate::address::Group;
use crate::auth::{self, Scope, Token};
use crate::backplane::Publication;
use crate::hub::Roster;
use crate::membership::{self, Entry, Membership};
use crate::protocol::rooms::{
    MemberCard, MemberName, RoomEvent, RosterRequest, message_template, parse_message, roster_request,
};
use crate::protocol::{ClientId, ErrorCode, EventError, Frame, RoomName, Version};
use crate::session::refusal::Refusal;
use crate::session::{Handler, RateLimit, Upgrade, error_message, rate_limited_message, require_upgrade};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/rooms/{room}", get(join))
}

/// `?name=`, `?since=` and `?notices=`, checked; anything else in the query is ignored.
struct JoinQuery {
    name: Option<MemberName>,
    since: Option<u64>,
    /// `?notices=false`: the member does not want to hear of joins and leaves.
    notices: bool,
}

impl JoinQuery {
    fn parse(mut query: HashMap<String, String>) -> Result<Self, Refusal> {
        let name = match query.remove("name") {
            None => None,
            Some(name) => Some(name.parse().map_err(|err: crate::protocol::rooms::InvalidMemberName| {
                Refusal::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidName, err.to_string())
            })?),
        };
        let since = match query.remove("since") {
            None => None,
            Some(since) => Some(since.parse().map_err(|_| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidSince,
                    format!("since must be the seq of the last message received, a whole number ≥ 0, not {since:?}"),
                )
            })?),
        };
        let notices = match query.remove("notices").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidNotices,
                    format!("notices must be true or false, not {other:?}"),
                ));
            }
        };
        Ok(Self { name, since, notices })
    }
}

/// The room of a URL, or the 400 that refuses it (shared with signaling).
pub fn room_name(room: &str) -> Result<RoomName, Refusal> {
    room.parse().map_err(|err: crate::protocol::InvalidRoomName| {
        Refusal::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRoom, err.to_string())
    })
}

/// The URL's checks, in the order a client fixes them.
fn check(
    room: &str,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<(RoomName, JoinQuery), Refusal> {
    let room = room_name(room)?;
    let Query(query) = query
        .map_err(|rejection| Refusal::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidName, rejection.body_text()))?;
    Ok((room, JoinQuery::parse(query)?))
}

async fn join(
    Path(room): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    State(app): State<AppState>,
    token: Token,
    version: Version,
    upgrade: Upgrade,
) -> Response {
    let (room, query) = match check(&room, query) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.respond(version, upgrade),
    };
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = auth::authorize(app.auth.as_ref(), &token, Scope::Room(room.clone())) {
        return refusal.respond(version, Ok(upgrade));
    }
    let card = MemberCard {
        id: ClientId::random(),
        name: query.name,
    };
    let me = card.clone();
    let welcome = move |roster: &Roster| {
        let members = roster.others.as_ref().map(|others| {
            let mut members = others.clone();
            members.push(me.clone());
            members
        });
        let welcome = RoomEvent::Welcome {
            id: me.id,
            seq: roster.seq,
            members: members.as_deref(),
            count: roster.count,
            notices: roster.notices,
            recovered: roster.recovered,
        };
        Message::Text(welcome.to_json().into())
    };
    let entry = Entry {
        group: Group::Room(room.clone()),
        since: query.since,
        welcome: Some(Box::new(welcome)),
        notice: Some(Message::Text(
            RoomEvent::Join {
                id: card.id,
                name: card.name.as_ref(),
            }
            .to_json()
            .into(),
        )),
        farewell: Some(Message::Text(RoomEvent::Leave { id: card.id }.to_json().into())),
        card: card.clone(),
        wants_notices: query.notices,
    };
    membership::accept(&app, version, upgrade, entry, |membership| RoomMember {
        membership,
        room,
        card,
    })
    .await
}

struct RoomMember {
    membership: Membership,
    room: RoomName,
    card: MemberCard,
}

impl RoomMember {
    /// One page of the room's members, for this member alone.
    async fn roster(&self, request: RosterRequest) -> Message {
        let Membership { hub, group, .. } = &self.membership;
        match hub.roster(group).await {
            Ok(members) => {
                let roster = RoomEvent::Roster {
                    count: members.len(),
                    offset: request.offset,
                    members: request.page(&members),
                };
                Message::Text(roster.to_json().into())
            }
            Err(_) => error_message(&EventError::broker_unavailable()),
        }
    }
}

impl Handler for RoomMember {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let Frame::Text(data) = message else {
            return Some(error_message(&EventError::binary_unsupported()));
        };
        let data = match parse_message(data.as_str()) {
            Ok(data) => data,
            Err(error) => return Some(error_message(&error)),
        };
        if let Some(request) = roster_request(data) {
            return Some(match request {
                Ok(request) => self.roster(request).await,
                Err(error) => error_message(&error),
            });
        }
        let template = message_template(&self.room, self.card.id, self.card.name.as_ref(), data);
        let Membership { hub, group, .. } = &self.membership;
        match hub.publish(group, Publication::Sequenced(template)).await {
            Ok(_) => None,
            Err(_) => Some(error_message(&EventError::broker_unavailable())),
        }
    }

    async fn on_end(&mut self) {
        self.membership.leave().await;
    }

    /// Room errors are typed events.
    fn rate_limited(&self, _message: &Frame, limit: RateLimit) -> Message {
        error_message(&EventError::new(ErrorCode::RateLimited, rate_limited_message(limit)))
    }
}
