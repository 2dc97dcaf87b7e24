//! Device pairing: a display (Unity headset) and a controller (Android phone) that share
//! a UUID. The controller sends a difficulty; the display receives a random draw of
//! quizzes and an action; the controller is told whether it arrived. Relay data goes
//! both ways. Each connection speaks the version it asked for: v1 (the seed's, frozen)
//! or v2 (`pairlink.v2`), and the hub writes what reaches it in that version.
//!
//! Rules that live here: the display connects first; each side is registered *before*
//! its 101 response goes out, so a peer told "connected" by its client is already
//! reachable; one connection per role and UUID, the newer replacing the older; a v2
//! client's first message is its welcome.

pub mod codes;
mod controller;
mod display;
mod speaker;

use std::sync::Arc;

use crate::session::WebSocketUpgrade;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tungstenite::{Message, Utf8Bytes};

use crate::address::{Generation, Peer};
use crate::auth::{self, Scope, Token};
use crate::backplane::Wait;
use crate::hub::{Hub, SendError};
use crate::metrics::Kind;
use crate::protocol::parcel::Parcel;
use crate::protocol::v2::{self, RequestId, Welcome};
use crate::protocol::{DeviceId, ErrorCode, Frame, Role, Version};
use crate::session::outbox::Outbox;
use crate::session::refusal::Refusal;
use crate::session::{Handler, Upgrade, require_upgrade};
use crate::state::AppState;
use controller::ControllerHandler;
use display::DisplayHandler;
use speaker::{Failure, Speaker};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/difficulty/unity/{uuid}", get(display))
        .route("/ws/difficulty/android/{uuid}", get(controller))
        .merge(codes::router())
}

/// `GET /ws/difficulty/unity/{uuid}`: the display.
async fn display(
    Path(uuid): Path<String>,
    State(app): State<AppState>,
    token: Token,
    version: Version,
    upgrade: Upgrade,
) -> Response {
    let device = match checked(&app, &uuid, &token, Role::Display) {
        Ok(device) => device,
        Err(refusal) => return refusal.respond(version, upgrade),
    };
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    // With held delivery, the held draws go out first: no controller message may
    // overtake them, so the queues stay locked until they are handed over.
    let release = match &app.held {
        Some(held) => Some(held.lock(device).await),
        None => None,
    };
    let hub = app.hub.clone();
    let response = accept(app, version, upgrade, Peer::display(device), |registration| {
        DisplayHandler::new(registration)
    })
    .await;
    if let Some(release) = release {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            release.deliver(&hub).await;
        } else {
            release.finish();
        }
    }
    response
}

/// `GET /ws/difficulty/android/{uuid}`: the controller, accepted only while its display is connected.
async fn controller(
    Path(uuid): Path<String>,
    State(app): State<AppState>,
    token: Token,
    version: Version,
    upgrade: Upgrade,
) -> Response {
    match checked(&app, &uuid, &token, Role::Controller) {
        Ok(device) => connect_controller(app, device, version, upgrade).await,
        Err(refusal) => refusal.respond(version, upgrade),
    }
}

/// The URL's UUID and the token, in the order a client fixes them.
fn checked(app: &AppState, uuid: &str, token: &Token, role: Role) -> Result<DeviceId, Refusal> {
    let device: DeviceId = uuid.parse().map_err(Refusal::from)?;
    auth::authorize(app.auth.as_ref(), token, Scope::Side(device, role))?;
    Ok(device)
}

/// Accepts the controller of `device` while its display is connected (also used by
/// `/ws/join/{code}`).
async fn connect_controller(app: AppState, device: DeviceId, version: Version, upgrade: Upgrade) -> Response {
    let online = match app.hub.is_online(Peer::display(device)).await {
        Ok(online) => online,
        Err(unavailable) => return Refusal::from(&unavailable).respond(version, upgrade),
    };
    if !online {
        let refusal = Refusal::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::DisplayOffline,
            "no display is connected for this UUID; connect the display first",
        );
        return refusal.respond(version, upgrade);
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    let (catalog, held) = (app.catalog.clone(), app.held.clone());
    accept(app, version, upgrade, Peer::controller(device), |registration| {
        ControllerHandler::new(registration, catalog, held)
    })
    .await
}

/// A connection's hold on its pairing address, released when the connection ends:
/// by [`Registration::release`] in the normal course, or, if the connection never
/// started or its task panicked, when this is dropped.
struct Registration {
    peer: Peer,
    generation: Generation,
    hub: Arc<Hub>,
    /// This connection's own queue, for answers that arrive later (held draws expiring).
    outbox: Outbox,
    /// How this connection's answers are written.
    speaker: Speaker,
    released: bool,
}

impl Registration {
    async fn release(&mut self) {
        self.hub.detach(self.peer, self.generation).await;
        self.released = true;
    }

    /// Relays `data` to the other side of the pair, without waiting for the write: the
    /// sender is answered only when it could not be relayed.
    async fn relay(&self, data: Frame, json: bool, id: Option<RequestId>) -> Option<Message> {
        let to = self.peer.counterpart();
        let parcel = Parcel::Relay { data, json };
        let err = self.hub.deliver(to, parcel, Wait::Queued).await.err()?;
        let (code, who) = match to.role {
            Role::Controller => (ErrorCode::ControllerOffline, "controller"),
            Role::Display => (ErrorCode::DisplayOffline, "display"),
        };
        let failure = match err {
            SendError::Unavailable => Failure::broker_unavailable(),
            SendError::SlowConsumer => Failure::new(
                code,
                format!("the {who} was not reading and has been disconnected; the message was dropped"),
            ),
            SendError::Offline => Failure::new(
                code,
                format!("no {who} is connected for this UUID; the message was dropped"),
            ),
        };
        Some(self.speaker.error(failure, id))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.released {
            let (hub, peer, generation) = (self.hub.clone(), self.peer, self.generation);
            tokio::spawn(async move { hub.detach(peer, generation).await });
        }
    }
}

/// The part of a text frame `part` is, sharing its bytes.
fn sub_text(whole: &Utf8Bytes, part: &str) -> Utf8Bytes {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    let bytes = axum::body::Bytes::from(whole.clone()).slice(start..start + part.len());
    Utf8Bytes::try_from(bytes).unwrap_or_else(|_| Utf8Bytes::from(part))
}

/// Takes a connection slot, registers `peer`, queues a v2 client's welcome ahead of
/// anything routed to it since, answers the upgrade, and runs the connection.
async fn accept<H: Handler + 'static>(
    app: AppState,
    version: Version,
    upgrade: WebSocketUpgrade,
    peer: Peer,
    handler: impl FnOnce(Registration) -> H,
) -> Response {
    let kind = match peer.role {
        Role::Display => Kind::Display,
        Role::Controller => Kind::Controller,
    };
    let admission = match app.sessions.admit(kind) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.respond(version, Ok(upgrade)),
    };
    let (outbox, reader) = app.sessions.outbox();
    // Registered before the 101 goes out: see the module comment.
    let generation = match app.hub.attach(peer, outbox.clone(), version).await {
        Ok(generation) => generation,
        Err(unavailable) => return Refusal::from(&unavailable).respond(version, Ok(upgrade)),
    };
    if version == Version::V2 {
        // Asked once registered: a counterpart arriving meanwhile is then told of this
        // connection, or seen here.
        let peer_online = app.hub.counterpart_online(peer, generation).await;
        let _ = outbox.push_front(Message::Text(welcome(&app, peer, peer_online).into()));
    }
    let registration = Registration {
        peer,
        generation,
        hub: app.hub.clone(),
        outbox,
        speaker: Speaker(version),
        released: false,
    };
    admission.subject(&peer.device);
    admission.upgrade(version, upgrade, reader, handler(registration))
}

/// A v2 client's welcome: who it is, whether its counterpart is there, and the limits
/// it must keep to.
fn welcome(app: &AppState, peer: Peer, peer_online: bool) -> String {
    let limits = app.sessions.limits();
    let welcome = Welcome {
        role: peer.role,
        uuid: peer.device,
        peer: peer_online,
        idle_timeout_ms: v2::millis(limits.idle_timeout),
        max_message_bytes: limits.max_message_bytes as u64,
        rate_limit: limits.rate_limit.map(Into::into),
        hold_ms: app.held.as_ref().map(|held| v2::millis(held.policy().hold_for)),
    };
    serde_json::to_string(&welcome).expect("a welcome serialises")
}
