//! Protocol v2 (subprotocol `pairlink.v2`) on the wire, as docs/protocol.md ("Protocol
//! v2") defines it: what a display or controller sends ([`Request`], read once by
//! [`Request::parse`]), what pairlink sends back ([`Event`] and its messages), and the
//! translations between v1 and v2 peers.
//!
//! Relay data is never re-serialised: a relay's `data` is kept as the JSON text the
//! client sent ([`RawValue`]) and spliced into the frame for the peer, because relaying
//! is the hot path (game input at 60 messages a second per pair and more).
//! This module holds wire types only: counting errors is the caller's business.

mod events;
mod mixed;

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Number;
use serde_json::value::RawValue;

use super::{ErrorCode, Role};
pub use events::{
    Ack, AckStatus, Draw, ErrorEvent, Event, PeerEvent, Pong, RateLimit, Relay, Welcome, millis, relay_json,
};
pub use mixed::{data_from_v1_text, relay_to_v1};

/// The WebSocket subprotocol a client offers to speak v2.
pub const SUBPROTOCOL: &str = "pairlink.v2";

/// The longest string id, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// A request's `id`: a string of at most [`MAX_ID_CHARS`] characters or an integer.
/// Answers echo it with the same JSON type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// Never a fraction: [`RequestId::read`] refuses those.
    Integer(Number),
    Text(Box<str>),
}

impl From<i64> for RequestId {
    fn from(id: i64) -> Self {
        Self::Integer(id.into())
    }
}

impl From<&str> for RequestId {
    fn from(id: &str) -> Self {
        Self::Text(id.into())
    }
}

impl RequestId {
    /// The id in a request, or `None` when it is of another type (a fraction, an object,
    /// `null`, a longer string): that makes the request `invalid_message`.
    fn read(raw: &RawValue) -> Option<Self> {
        let text = raw.get();
        if text.starts_with('"') {
            let id: String = serde_json::from_str(text).ok()?;
            (id.chars().count() <= MAX_ID_CHARS).then(|| Self::Text(id.into()))
        } else {
            let number: Number = serde_json::from_str(text).ok()?;
            (!number.is_f64()).then_some(Self::Integer(number))
        }
    }
}

/// A message from a display or controller.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Request<'a> {
    /// `{"type":"difficulty","difficulty":N}`: controllers only.
    Difficulty {
        difficulty: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
    },
    /// `{"type":"relay","data":V}`: `data` as the client wrote it.
    Relay {
        #[serde(borrow)]
        data: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
    },
    /// `{"type":"ping"}`, answered with a [`Pong`].
    Ping {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
    },
}

/// The fields of a request, each kept as its raw JSON so that every one can be judged
/// apart (a bad `difficulty` still lets the `id` be echoed). `null` counts as present.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", default, borrow, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    difficulty: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    data: Option<&'a RawValue>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

impl<'a> Request<'a> {
    /// Reads a text frame from a client of `role`. Every malformed message has its
    /// answer: `invalid_message` (not a JSON object, an unknown `type` or one this role
    /// does not send, a bad `id`, no `data`) or `invalid_difficulty`, with the `id` when
    /// it could be read.
    pub fn parse(text: &'a str, role: Role) -> Result<Self, ErrorEvent> {
        let invalid = |message: &'static str| ErrorEvent::new(ErrorCode::InvalidMessage, message);
        // serde also fills a struct from an array; only an object is a v2 message.
        if !text.trim_start().starts_with('{') {
            return Err(invalid("a v2 message is one JSON object with a \"type\""));
        }
        let envelope: Envelope<'a> =
            serde_json::from_str(text).map_err(|_| invalid("the message is not a JSON object (or repeats a field)"))?;
        let id = match envelope.id {
            None => None,
            Some(raw) => Some(
                RequestId::read(raw)
                    .ok_or_else(|| invalid("\"id\" must be an integer or a string of at most 64 characters"))?,
            ),
        };
        let with_id = |error: ErrorEvent| error.with_id(id.clone());
        let kind = envelope.kind.and_then(|raw| unquoted(raw.get()));
        match (kind.as_deref(), role) {
            (Some("difficulty"), Role::Controller) => {
                let difficulty = envelope
                    .difficulty
                    .and_then(|raw| serde_json::from_str::<i64>(raw.get()).ok())
                    .ok_or_else(|| {
                        with_id(ErrorEvent::new(
                            ErrorCode::InvalidDifficulty,
                            "\"difficulty\" must be an integer",
                        ))
                    })?;
                Ok(Request::Difficulty { difficulty, id })
            }
            (Some("relay"), _) => match envelope.data {
                Some(data) => Ok(Request::Relay { data, id }),
                None => Err(with_id(invalid("a relay message needs \"data\""))),
            },
            (Some("ping"), _) => Ok(Request::Ping { id }),
            (Some("difficulty"), Role::Display) => Err(with_id(invalid("a display does not send difficulties"))),
            _ => Err(with_id(invalid(
                "\"type\" must be one of \"difficulty\" (controllers), \"relay\" and \"ping\"",
            ))),
        }
    }

    /// The request's id, to echo in its answers.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Request::Difficulty { id, .. } | Request::Relay { id, .. } | Request::Ping { id } => id.as_ref(),
        }
    }

    /// Compact JSON (what a client sends).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serialises")
    }
}

/// Only the `id` of a v2 text frame, when it has a valid one: for answering a message
/// that is refused without being read (beyond `--rate-limit`) with its id.
pub fn read_id(text: &str) -> Option<RequestId> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let envelope: Envelope<'_> = serde_json::from_str(text).ok()?;
    RequestId::read(envelope.id?)
}

/// The text of a JSON string, borrowed when it has no escapes.
fn unquoted(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(text: &str, role: Role) -> ErrorEvent {
        match Request::parse(text, role) {
            Ok(request) => panic!("{text:?} was accepted as {request:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn reads_each_request_with_its_id() {
        match Request::parse(r#"{"type":"difficulty","difficulty":2,"id":7}"#, Role::Controller) {
            Ok(Request::Difficulty { difficulty: 2, id }) => assert_eq!(id, Some(7.into())),
            other => panic!("{other:?}"),
        }
        match Request::parse(
            r#"{"type":"relay","data":{"button":"A", "pressed":true},"id":"r1"}"#,
            Role::Display,
        ) {
            Ok(Request::Relay { data, id }) => {
                assert_eq!(data.get(), r#"{"button":"A", "pressed":true}"#, "data is kept as sent");
                assert_eq!(id, Some("r1".into()));
            }
            other => panic!("{other:?}"),
        }
        let ping = Request::parse(r#" {"id":5,"type":"ping","extra":[1]} "#, Role::Display).unwrap();
        assert_eq!(ping.id(), Some(&RequestId::from(5)));
        match Request::parse(r#"{"type":"relay","data":null}"#, Role::Controller) {
            Ok(Request::Relay { data, id: None }) => assert_eq!(data.get(), "null"),
            other => panic!("null is relay data: {other:?}"),
        }
    }

    #[test]
    fn ids_are_integers_or_short_strings_echoed_with_their_type() {
        let longest = "é".repeat(MAX_ID_CHARS);
        for (id, echoed) in [
            ("-3", "-3"),
            ("18446744073709551615", "18446744073709551615"),
            ("\"7\"", "\"7\""),
            (&format!("\"{longest}\""), &format!("\"{longest}\"")[..]),
            ("\"a\\u0062\"", "\"ab\""),
        ] {
            let text = format!(r#"{{"type":"ping","id":{id}}}"#);
            let request = Request::parse(&text, Role::Display).unwrap();
            assert_eq!(serde_json::to_string(request.id().unwrap()).unwrap(), echoed);
        }
        let too_long = format!("\"{}\"", "x".repeat(MAX_ID_CHARS + 1));
        for bad in ["1.5", "1e3", "null", "true", "[1]", "{}", too_long.as_str()] {
            let error = rejected(&format!(r#"{{"type":"ping","id":{bad}}}"#), Role::Display);
            assert_eq!((error.code, error.id), (ErrorCode::InvalidMessage, None), "{bad}");
        }
    }

    #[test]
    fn bad_messages_are_invalid_message_with_the_id_when_it_could_be_read() {
        for (text, role, id) in [
            ("not json", Role::Controller, None),
            ("", Role::Controller, None),
            ("[1,2]", Role::Controller, None),
            (r#"["ping"]"#, Role::Controller, None),
            ("\"ping\"", Role::Controller, None),
            (r#"{"type":"ping"} trailing"#, Role::Controller, None),
            (r#"{"type":"ping","type":"ping"}"#, Role::Controller, None),
            (r#"{"id":1}"#, Role::Controller, Some(1.into())),
            (r#"{"type":"pong","id":"x"}"#, Role::Controller, Some("x".into())),
            (r#"{"type":"welcome","id":2}"#, Role::Display, Some(2.into())),
            (r#"{"type":3,"id":2}"#, Role::Display, Some(2.into())),
            (r#"{"type":"RELAY","data":1}"#, Role::Display, None),
            (
                r#"{"type":"difficulty","difficulty":1,"id":4}"#,
                Role::Display,
                Some(4.into()),
            ),
            (r#"{"type":"relay","id":"r"}"#, Role::Display, Some("r".into())),
        ] {
            let error = rejected(text, role);
            assert_eq!((error.code, &error.id), (ErrorCode::InvalidMessage, &id), "{text}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn a_difficulty_that_is_not_an_integer_is_invalid_difficulty() {
        for bad in [
            r#"{"type":"difficulty","id":9}"#,
            r#"{"type":"difficulty","difficulty":null,"id":9}"#,
            r#"{"type":"difficulty","difficulty":"1","id":9}"#,
            r#"{"type":"difficulty","difficulty":1.5,"id":9}"#,
            r#"{"type":"difficulty","difficulty":9223372036854775808,"id":9}"#,
        ] {
            let error = rejected(bad, Role::Controller);
            assert_eq!(
                (error.code, error.id),
                (ErrorCode::InvalidDifficulty, Some(9.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_id_alone_can_be_read_from_any_request() {
        assert_eq!(read_id(r#"{"type":"relay","data":[1],"id":"r1"}"#), Some("r1".into()));
        assert_eq!(read_id(r#"{"type":"nonsense","id":4}"#), Some(4.into()));
        for none in [
            r#"{"type":"ping"}"#,
            r#"{"id":1.5}"#,
            "[1]",
            "not json",
            r#"{"id":1} x"#,
        ] {
            assert_eq!(read_id(none), None, "{none}");
        }
    }

    #[test]
    fn requests_are_written_as_compact_json() {
        let data = RawValue::from_string(r#"{"stick":[0.2,-1]}"#.to_owned()).unwrap();
        for (request, json) in [
            (
                Request::Difficulty {
                    difficulty: 1,
                    id: Some(1.into()),
                },
                r#"{"type":"difficulty","difficulty":1,"id":1}"#,
            ),
            (
                Request::Relay { data: &data, id: None },
                r#"{"type":"relay","data":{"stick":[0.2,-1]}}"#,
            ),
            (Request::Ping { id: Some("p".into()) }, r#"{"type":"ping","id":"p"}"#),
        ] {
            assert_eq!(request.to_json(), json);
        }
    }
}
