//! The display's connection. It receives draws, relay data and (v2) its controller's
//! presence from the hub; what it sends is relay data for its controller. A v1 display's
//! every message is relayed unchanged (the seed ignored them; seed displays send
//! nothing, so they see no change); a v2 display sends typed requests.

use tungstenite::Message;

use super::{Registration, sub_text};
use crate::protocol::v2::{Request, read_id};
use crate::protocol::{ErrorCode, Frame, Role, Version};
use crate::session::{Handler, RateLimit, rate_limited_message};

pub struct DisplayHandler {
    registration: Registration,
}

impl DisplayHandler {
    pub(super) fn new(registration: Registration) -> Self {
        Self { registration }
    }
}

impl Handler for DisplayHandler {
    async fn on_message(&mut self, message: Frame) -> Option<Message> {
        let registration = &self.registration;
        match (registration.speaker.0, message) {
            // v1: text is relayed as it is, whatever it holds.
            (Version::V1, data) => registration.relay(data, false, None).await,
            (Version::V2, Frame::Binary(bytes)) => registration.relay(Frame::Binary(bytes), false, None).await,
            (Version::V2, Frame::Text(text)) => match Request::parse(&text, Role::Display) {
                Ok(Request::Relay { data, id }) => {
                    let data = Frame::Text(sub_text(&text, data.get()));
                    registration.relay(data, true, id).await
                }
                Ok(Request::Ping { id }) => Some(registration.speaker.pong(id)),
                // A display's difficulty is refused by the parser itself.
                Ok(Request::Difficulty { id, .. }) => Some(registration.speaker.error(
                    super::Failure::new(ErrorCode::InvalidMessage, "a display does not send difficulties"),
                    id,
                )),
                Err(error) => Some(crate::session::error_message(&error)),
            },
        }
    }

    async fn on_end(&mut self) {
        self.registration.release().await;
    }

    fn rate_limited(&self, message: &Frame, limit: RateLimit) -> Message {
        rate_limited(&self.registration, message, limit)
    }
}

/// The answer to a message beyond `--rate-limit`, with its id in v2.
pub(super) fn rate_limited(registration: &Registration, message: &Frame, limit: RateLimit) -> Message {
    let id = match message {
        Frame::Text(text) if registration.speaker.0 == Version::V2 => read_id(text),
        _ => None,
    };
    let failure = super::Failure::new(ErrorCode::RateLimited, rate_limited_message(limit));
    registration.speaker.error(failure, id)
}
