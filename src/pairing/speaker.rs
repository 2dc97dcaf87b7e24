//! pairlink's answers on a display's or controller's connection, written in the protocol
//! version that connection speaks: v1's `{"status":…}` objects, or v2's typed events
//! with the request's id. Every error answer is counted as it is made here.

use std::borrow::Cow;

use tungstenite::{Message, Utf8Bytes};

use crate::held::Outcome;
use crate::protocol::pairing::{QUEUED, RECEIVED};
use crate::protocol::v2::{Ack, AckStatus, ErrorEvent, Pong, RequestId};
use crate::protocol::{ErrorCode, ErrorReply, Version};
use crate::session::error_message;

/// Why a request failed, before it is written for a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A message that needed another node while Redis is unreachable.
    pub fn broker_unavailable() -> Self {
        let reply = ErrorReply::broker_unavailable();
        Self::new(reply.code, reply.message)
    }
}

/// Writes answers for a connection speaking this version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Speaker(pub Version);

impl Speaker {
    /// The failure of the request with `id` (v1 has no ids).
    pub fn error(self, failure: Failure, id: Option<RequestId>) -> Message {
        match self.0 {
            Version::V1 => error_message(&ErrorReply::new(failure.code, failure.message)),
            Version::V2 => error_message(&ErrorEvent::new(failure.code, failure.message).with_id(id)),
        }
    }

    /// What became of a difficulty.
    pub fn ack(self, outcome: Outcome, id: Option<RequestId>) -> Message {
        match self.0 {
            Version::V1 => Message::Text(Utf8Bytes::from_static(match outcome {
                Outcome::Delivered => RECEIVED,
                Outcome::Held => QUEUED,
            })),
            Version::V2 => {
                let status = match outcome {
                    Outcome::Delivered => AckStatus::Received,
                    Outcome::Held => AckStatus::Queued,
                };
                let ack = Ack { id, status };
                Message::Text(serde_json::to_string(&ack).expect("an ack serialises").into())
            }
        }
    }

    /// The answer to an app-level ping (v2 only).
    pub fn pong(self, id: Option<RequestId>) -> Message {
        Message::Text(serde_json::to_string(&Pong { id }).expect("a pong serialises").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(message: Message) -> String {
        match message {
            Message::Text(text) => text.to_string(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn answers_are_written_in_each_version() {
        let failure = || Failure::new(ErrorCode::NoContent, "none");
        assert_eq!(
            text(Speaker(Version::V1).error(failure(), Some(7.into()))),
            r#"{"status":"error","code":"no_content","message":"none"}"#
        );
        assert_eq!(
            text(Speaker(Version::V2).error(failure(), Some(7.into()))),
            r#"{"type":"error","id":7,"code":"no_content","message":"none"}"#
        );
        assert_eq!(text(Speaker(Version::V1).ack(Outcome::Held, None)), QUEUED);
        assert_eq!(
            text(Speaker(Version::V2).ack(Outcome::Delivered, Some("a".into()))),
            r#"{"type":"ack","id":"a","status":"received"}"#
        );
        assert_eq!(text(Speaker(Version::V2).pong(None)), r#"{"type":"pong"}"#);
    }
}
