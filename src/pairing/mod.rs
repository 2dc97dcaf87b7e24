//! Seed-000 device pairing: a display (Unity headset) and a controller (Android phone)
//! that share a UUID. The controller sends a difficulty; the display receives a random
//! draw of quizzes and an action; the controller is told whether it arrived.
//!
//! Rules that live here: the display connects first; each side is registered *before*
//! its 101 response goes out, so a peer told "connected" by its client is already
//! reachable; one connection per role and UUID, the newer replacing the older.

pub mod codes;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tokio::time::Instant;

use crate::address::{Generation, Peer};
use crate::auth::{self, Scope, Token};
use crate::backplane::Wait;
use crate::catalog::SharedCatalog;
use crate::hub::{Hub, SendError};
use crate::metrics::{Kind, METRICS};
use crate::protocol::pairing::{DifficultyRequest, QUEUED, RECEIVED};
use crate::protocol::parcel::Parcel;
use crate::protocol::{DeviceId, ErrorCode, ErrorReply, Frame, Role, Version};
use crate::session::outbox::Outbox;
use crate::session::{Handler, Upgrade, error_message, refuse, refuse_unavailable, require_upgrade};
use crate::state::AppState;

use crate::held::{self, HeldDraws, NotHeld, Outcome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws/difficulty/unity/{uuid}", get(display))
        .route("/ws/difficulty/android/{uuid}", get(controller))
        .merge(codes::router())
}

/// `GET /ws/difficulty/unity/{uuid}`: the display.
async fn display(Path(uuid): Path<String>, State(app): State<AppState>, token: Token, upgrade: Upgrade) -> Response {
    let device = match device_id(&uuid) {
        Ok(device) => device,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = auth::require(app.auth.as_ref(), &token, Scope::Side(device, Role::Display)) {
        return refusal;
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    // With held delivery, the held draws go out first: no controller message may
    // overtake them, so the queues stay locked until they are handed over.
    let held = app.held.clone();
    let release = match &held {
        Some(held) => Some(held.lock(device).await),
        None => None,
    };
    let hub = app.hub.clone();
    let response = accept(app, upgrade, Peer::display(device), |registration| DisplayHandler {
        registration,
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
async fn controller(Path(uuid): Path<String>, State(app): State<AppState>, token: Token, upgrade: Upgrade) -> Response {
    let device = match device_id(&uuid) {
        Ok(device) => device,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = auth::require(app.auth.as_ref(), &token, Scope::Side(device, Role::Controller)) {
        return refusal;
    }
    connect_controller(app, device, upgrade).await
}

/// Accepts the controller of `device` while its display is connected (also used by
/// `/ws/join/{code}`).
async fn connect_controller(app: AppState, device: DeviceId, upgrade: Upgrade) -> Response {
    let online = match app.hub.is_online(Peer::display(device)).await {
        Ok(online) => online,
        Err(unavailable) => return refuse_unavailable(&unavailable),
    };
    if !online {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::DisplayOffline,
            "no display is connected for this UUID; connect the display first".to_owned(),
        );
    }
    let upgrade = match require_upgrade(upgrade) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal,
    };
    let catalog = app.catalog.clone();
    let held = app.held.clone();
    accept(app, upgrade, Peer::controller(device), |registration| {
        ControllerHandler {
            registration,
            catalog,
            held,
        }
    })
    .await
}

/// The `{uuid}` of a pairing URL, or the HTTP 400 that refuses it.
#[allow(clippy::result_large_err)]
fn device_id(uuid: &str) -> Result<DeviceId, Response> {
    uuid.parse().map_err(|err: crate::protocol::InvalidDeviceId| {
        refuse(StatusCode::BAD_REQUEST, ErrorCode::InvalidUuid, err.to_string())
    })
}

/// A connection's hold on its pairing address, released when the connection ends:
/// by [`Registration::release`] in the normal course, or, if the connection never
/// started or its task panicked, when this is dropped.
struct Registration {
    peer: Peer,
    generation: Generation,
    hub: Arc<Hub>,
    /// This connection's own queue, for answers that arrive later (held messages expiring).
    outbox: Outbox,
    released: bool,
}

impl Registration {
    async fn release(&mut self) {
        self.hub.detach(self.peer, self.generation).await;
        self.released = true;
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

/// Takes a connection slot, registers `peer`, answers the upgrade, and runs the
/// connection once upgraded.
async fn accept<H: Handler + 'static>(
    app: AppState,
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
        Err(refusal) => return refusal,
    };
    let (outbox, inbox) = app.sessions.outbox();
    // Registered before the 101 goes out: see the module comment.
    let generation = match app.hub.attach(peer, outbox.clone(), Version::V1).await {
        Ok(generation) => generation,
        Err(unavailable) => return refuse_unavailable(&unavailable),
    };
    let registration = Registration {
        peer,
        generation,
        hub: app.hub.clone(),
        outbox,
        released: false,
    };
    admission.subject(&peer.device);
    admission.upgrade(upgrade, inbox, handler(registration))
}

/// The display receives draws; what it sends goes on, unchanged, to its controller
/// (results and game state back to the phone). The seed ignored it; seed displays send
/// nothing, so they see no change.
struct DisplayHandler {
    registration: Registration,
}

impl Handler for DisplayHandler {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let controller = Peer::controller(self.registration.peer.device);
        let relay = Parcel::Relay {
            data: message,
            json: false,
        };
        // Queued without waiting for the write: the display is told only of failure.
        match self.registration.hub.deliver(controller, relay, Wait::Queued).await {
            Ok(()) => None,
            Err(SendError::Unavailable) => Some(error_message(&ErrorReply::broker_unavailable())),
            Err(err) => {
                let message = match err {
                    SendError::SlowConsumer => {
                        "the controller was not reading and has been disconnected; the message was dropped"
                    }
                    _ => "no controller is connected for this UUID; the message was dropped",
                };
                Some(error_message(&ErrorReply::new(ErrorCode::ControllerOffline, message)))
            }
        }
    }

    async fn on_end(&mut self) {
        self.registration.release().await;
    }
}

/// Turns each difficulty into a draw for the display and an answer for the controller.
struct ControllerHandler {
    registration: Registration,
    catalog: SharedCatalog,
    held: Option<HeldDraws>,
}

impl Handler for ControllerHandler {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        // Binary frames are read as JSON too: the seed's ReadJSON accepted either kind.
        let started = Instant::now();
        let reply = match self.deliver(message.as_bytes()).await {
            Ok(outcome) => {
                METRICS.observe_draw(started.elapsed());
                match outcome {
                    Outcome::Delivered => Utf8Bytes::from_static(RECEIVED),
                    Outcome::Held => Utf8Bytes::from_static(QUEUED),
                }
            }
            Err(error) => return Some(error_message(&error)),
        };
        Some(Message::Text(reply))
    }

    async fn on_end(&mut self) {
        self.registration.release().await;
    }
}

impl ControllerHandler {
    async fn deliver(&self, bytes: &[u8]) -> Result<Outcome, ErrorReply> {
        let request = DifficultyRequest::parse(bytes).map_err(|err| ErrorReply::new(err.code(), err.to_string()))?;
        let draw = self.catalog.draw(request.difficulty).ok_or_else(|| {
            ErrorReply::new(
                ErrorCode::NoContent,
                format!("no quiz or no action has difficulty {}", request.difficulty),
            )
        })?;
        let to_display = Parcel::Draw {
            draw,
            difficulty: request.difficulty,
            held_since_ms: None,
        };
        let device = self.registration.peer.device;
        if let Some(held) = &self.held {
            let expired: held::Expiry = Box::new(|why| error_message(&ErrorReply::new(ErrorCode::Expired, why)));
            return held
                .send_or_hold(device, to_display, &self.registration.outbox, expired)
                .await
                .map_err(|refused| match refused {
                    NotHeld::Unreachable(err) => display_unreachable(err),
                    NotHeld::QueueFull(held) => ErrorReply::new(
                        ErrorCode::QueueFull,
                        format!("the display is offline and {held} messages are already held for it"),
                    ),
                });
        }
        self.registration
            .hub
            .deliver(Peer::display(device), to_display, Wait::Written)
            .await
            .map(|()| Outcome::Delivered)
            .map_err(display_unreachable)
    }
}

/// The controller's answer when its draw could not reach the display.
fn display_unreachable(err: SendError) -> ErrorReply {
    let message = match err {
        SendError::Offline => "the display for this UUID is not connected",
        SendError::SlowConsumer => "the display was not reading and has been disconnected",
        SendError::Unavailable => return ErrorReply::broker_unavailable(),
    };
    ErrorReply::new(ErrorCode::DisplayOffline, message)
}
