//! The controller's connection: each difficulty becomes a draw for the display and an
//! answer for the controller. A v1 controller's every message is a difficulty (the
//! seed's ReadJSON took text or binary frames); a v2 controller sends typed requests
//! with ids, and relay data for its display.

use tokio::time::Instant;
use tungstenite::Message;

use super::{Failure, Registration, Speaker, sub_text};
use crate::address::Peer;
use crate::backplane::Wait;
use crate::catalog::SharedCatalog;
use crate::held::{Expiry, HeldDraws, NotHeld, Outcome};
use crate::hub::SendError;
use crate::metrics::METRICS;
use crate::protocol::pairing::DifficultyRequest;
use crate::protocol::parcel::Parcel;
use crate::protocol::v2::{Request, RequestId};
use crate::protocol::{ErrorCode, Frame, Role, Version};
use crate::session::{Handler, RateLimit};

pub struct ControllerHandler {
    registration: Registration,
    catalog: SharedCatalog,
    held: Option<HeldDraws>,
}

impl ControllerHandler {
    pub(super) fn new(registration: Registration, catalog: SharedCatalog, held: Option<HeldDraws>) -> Self {
        Self {
            registration,
            catalog,
            held,
        }
    }
}

impl Handler for ControllerHandler {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let speaker = self.registration.speaker;
        match (speaker.0, message) {
            (Version::V1, message) => {
                let answer = match DifficultyRequest::parse(message.as_bytes()) {
                    Ok(request) => self.draw(request.difficulty, None).await,
                    Err(err) => Err(Failure::new(err.code(), err.to_string())),
                };
                Some(answer.unwrap_or_else(|failure| speaker.error(failure, None)))
            }
            (Version::V2, Frame::Binary(bytes)) => self.registration.relay(Frame::Binary(bytes), false, None).await,
            (Version::V2, Frame::Text(text)) => match Request::parse(&text, Role::Controller) {
                Ok(Request::Difficulty { difficulty, id }) => Some(
                    self.draw(difficulty, id.clone())
                        .await
                        .unwrap_or_else(|failure| speaker.error(failure, id)),
                ),
                Ok(Request::Relay { data, id }) => {
                    let data = Frame::Text(sub_text(&text, data.get()));
                    self.registration.relay(data, true, id).await
                }
                Ok(Request::Ping { id }) => Some(speaker.pong(id)),
                Err(error) => Some(crate::session::error_message(&error)),
            },
        }
    }

    async fn on_end(&mut self) {
        self.registration.release().await;
    }

    fn rate_limited(&self, message: &Frame, limit: RateLimit) -> Message {
        super::display::rate_limited(&self.registration, message, limit)
    }
}

impl ControllerHandler {
    /// Draws for `difficulty` and delivers (or holds) it; the controller's answer.
    async fn draw(&self, difficulty: i64, id: Option<RequestId>) -> Result<Message, Failure> {
        let started = Instant::now();
        let draw = self.catalog.draw(difficulty).ok_or_else(|| {
            Failure::new(
                ErrorCode::NoContent,
                format!("no quiz or no action has difficulty {difficulty}"),
            )
        })?;
        let to_display = Parcel::Draw {
            draw,
            difficulty,
            held_since_ms: None,
        };
        let device = self.registration.peer.device;
        let speaker = self.registration.speaker;
        let outcome = match &self.held {
            Some(held) => {
                let expired = expiry(speaker, id.clone());
                // Boxed: holding is opt-in, and its state (about a kilobyte) would
                // otherwise enlarge every message's future, held or not.
                Box::pin(held.send_or_hold(device, to_display, &self.registration.outbox, expired))
                    .await
                    .map_err(|refused| match refused {
                        NotHeld::Unreachable(err) => display_unreachable(err),
                        NotHeld::QueueFull(held) => Failure::new(
                            ErrorCode::QueueFull,
                            format!("the display is offline and {held} messages are already held for it"),
                        ),
                    })?
            }
            None => {
                let hub = &self.registration.hub;
                hub.deliver(Peer::display(device), to_display, Wait::Written)
                    .await
                    .map_err(display_unreachable)?;
                Outcome::Delivered
            }
        };
        METRICS.observe_draw(started.elapsed());
        Ok(speaker.ack(outcome, id))
    }
}

/// The controller's later `expired` answer for a held draw, in its version, with its id.
fn expiry(speaker: Speaker, id: Option<RequestId>) -> Expiry {
    Box::new(move |why| speaker.error(Failure::new(ErrorCode::Expired, why), id))
}

/// The controller's answer when its draw could not reach the display.
fn display_unreachable(err: SendError) -> Failure {
    let message = match err {
        SendError::Offline => "the display for this UUID is not connected",
        SendError::SlowConsumer => "the display was not reading and has been disconnected",
        SendError::Unavailable => return Failure::broker_unavailable(),
    };
    Failure::new(ErrorCode::DisplayOffline, message)
}
