//! What pairlink sends a v2 display or controller: each message as its own type, and
//! [`Event`], any of them, for clients to read.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::RequestId;
use crate::protocol::{DeviceId, ErrorCode, Role};

/// `{"per_second":N,"burst":B}`: the rate limit a welcome announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// The first message a v2 display or controller receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "welcome")]
pub struct Welcome {
    pub role: Role,
    pub uuid: DeviceId,
    /// Whether the other role is connected now.
    pub peer: bool,
    pub idle_timeout_ms: u64,
    pub max_message_bytes: u64,
    /// `null` without `--rate-limit`.
    pub rate_limit: Option<RateLimit>,
    /// `--hold-for`, or `null` when held delivery is off.
    pub hold_ms: Option<u64>,
}

/// A duration as the whole milliseconds a welcome gives.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What became of a difficulty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckStatus {
    /// Written to the display's socket.
    Received,
    /// Held for an absent display (`--hold-for`).
    Queued,
}

/// `{"type":"ack","id":…,"status":…}`: a difficulty's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "ack")]
pub struct Ack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    pub status: AckStatus,
}

/// `{"type":"error",…}`: a request's failure (with its id), or a refusal in-band just
/// before the close (with `retry_after` for `too_many_guesses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "error")]
pub struct ErrorEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    pub code: ErrorCode,
    /// For people; clients act on `code`.
    pub message: Cow<'static, str>,
    /// Whole seconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorEvent {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            id: None,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, answering the request with this id.
    pub fn with_id(mut self, id: Option<RequestId>) -> Self {
        self.id = id;
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl crate::protocol::WireError for ErrorEvent {
    fn code(&self) -> ErrorCode {
        self.code
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an error event serialises")
    }
}

/// `{"type":"draw",…}`: what a v2 display receives for a difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "draw")]
pub struct Draw {
    pub quiz_id: Vec<i32>,
    pub action_id: i32,
    /// The difficulty the controller asked for.
    pub difficulty: i64,
    /// True exactly when `sent_at` is set: the draw waited for the display.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// When pairlink received the difficulty (RFC 3339, UTC, milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339_millis")]
    pub sent_at: Option<SystemTime>,
}

impl Draw {
    /// The same draw, marked as held since the controller sent it at `sent_at`.
    pub fn held_since(mut self, sent_at: SystemTime) -> Self {
        self.held = true;
        self.sent_at = Some(sent_at);
        self
    }
}

/// RFC 3339 with milliseconds, UTC: `2026-12-01T12:00:00.123Z`.
mod rfc3339_millis {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<SystemTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.collect_str(&humantime::format_rfc3339_millis(*time)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SystemTime>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => humantime::parse_rfc3339(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// `{"type":"relay","data":V}` as a v2 peer receives it; `data` kept as raw JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct Relay {
    pub data: Box<RawValue>,
}

impl PartialEq for Relay {
    fn eq(&self, other: &Self) -> bool {
        self.data.get() == other.data.get()
    }
}

/// The frame a v2 peer receives for relay `data`: the raw text spliced in, one
/// allocation of the exact size.
pub fn relay_json(data: &RawValue) -> String {
    const HEAD: &str = r#"{"type":"relay","data":"#;
    let raw = data.get();
    let mut frame = String::with_capacity(HEAD.len() + raw.len() + 1);
    frame.push_str(HEAD);
    frame.push_str(raw);
    frame.push('}');
    frame
}

/// `{"type":"peer","role":…,"connected":…}`: the other role came or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "peer")]
pub struct PeerEvent {
    pub role: Role,
    pub connected: bool,
}

/// `{"type":"pong","id":…}`: the answer to a ping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "pong")]
pub struct Pong {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
}

/// Any message pairlink sends a v2 display or controller.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Welcome(Welcome),
    Ack(Ack),
    Error(ErrorEvent),
    Draw(Draw),
    Relay(Relay),
    Peer(PeerEvent),
    Pong(Pong),
}

impl Event {
    /// Reads a text frame from pairlink (what a client does).
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Tag<'a> {
            #[serde(rename = "type", borrow)]
            kind: Cow<'a, str>,
        }
        let tag: Tag<'_> = serde_json::from_str(text)?;
        Ok(match tag.kind.as_ref() {
            "welcome" => Event::Welcome(serde_json::from_str(text)?),
            "ack" => Event::Ack(serde_json::from_str(text)?),
            "error" => Event::Error(serde_json::from_str(text)?),
            "draw" => Event::Draw(serde_json::from_str(text)?),
            "relay" => Event::Relay(serde_json::from_str(text)?),
            "peer" => Event::Peer(serde_json::from_str(text)?),
            "pong" => Event::Pong(serde_json::from_str(text)?),
            other => {
                const KNOWN: &[&str] = &["welcome", "ack", "error", "draw", "relay", "peer", "pong"];
                return Err(serde::de::Error::unknown_variant(other, KNOWN));
            }
        })
    }

    /// Compact JSON, as sent.
    pub fn to_json(&self) -> String {
        let json = match self {
            Event::Relay(relay) => return relay_json(&relay.data),
            Event::Welcome(welcome) => serde_json::to_string(welcome),
            Event::Ack(ack) => serde_json::to_string(ack),
            Event::Error(error) => serde_json::to_string(error),
            Event::Draw(draw) => serde_json::to_string(draw),
            Event::Peer(peer) => serde_json::to_string(peer),
            Event::Pong(pong) => serde_json::to_string(pong),
        };
        json.expect("an event always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DeviceId {
        "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap()
    }

    /// Each event as docs/protocol.md shows it, byte for byte, and read back.
    #[test]
    fn events_have_the_documented_shape_and_read_back() {
        let sent_at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_126_400_123);
        let relay = Relay {
            data: RawValue::from_string(r#"{"score":120}"#.to_owned()).unwrap(),
        };
        let cases = [
            (
                Event::Welcome(Welcome {
                    role: Role::Controller,
                    uuid: device(),
                    peer: true,
                    idle_timeout_ms: millis(Duration::from_secs(60)),
                    max_message_bytes: 65536,
                    rate_limit: None,
                    hold_ms: None,
                }),
                r#"{"type":"welcome","role":"controller","uuid":"de358130-e94a-5692-8b09-d27007ad1944","peer":true,"idle_timeout_ms":60000,"max_message_bytes":65536,"rate_limit":null,"hold_ms":null}"#,
            ),
            (
                Event::Welcome(Welcome {
                    role: Role::Display,
                    uuid: device(),
                    peer: false,
                    idle_timeout_ms: 1,
                    max_message_bytes: 2,
                    rate_limit: Some(RateLimit {
                        per_second: 20,
                        burst: 40,
                    }),
                    hold_ms: Some(30_000),
                }),
                r#"{"type":"welcome","role":"display","uuid":"de358130-e94a-5692-8b09-d27007ad1944","peer":false,"idle_timeout_ms":1,"max_message_bytes":2,"rate_limit":{"per_second":20,"burst":40},"hold_ms":30000}"#,
            ),
            (
                Event::Ack(Ack {
                    id: Some(7.into()),
                    status: AckStatus::Received,
                }),
                r#"{"type":"ack","id":7,"status":"received"}"#,
            ),
            (
                Event::Ack(Ack {
                    id: None,
                    status: AckStatus::Queued,
                }),
                r#"{"type":"ack","status":"queued"}"#,
            ),
            (
                Event::Error(ErrorEvent::new(ErrorCode::NoContent, "none").with_id(Some(7.into()))),
                r#"{"type":"error","id":7,"code":"no_content","message":"none"}"#,
            ),
            (
                Event::Error(ErrorEvent::new(ErrorCode::TooManyGuesses, "wait").with_retry_after(42)),
                r#"{"type":"error","code":"too_many_guesses","message":"wait","retry_after":42}"#,
            ),
            (
                Event::Draw(Draw {
                    quiz_id: vec![4, 1, 3],
                    action_id: 2,
                    difficulty: 2,
                    held: false,
                    sent_at: None,
                }),
                r#"{"type":"draw","quiz_id":[4,1,3],"action_id":2,"difficulty":2}"#,
            ),
            (
                Event::Draw(
                    Draw {
                        quiz_id: vec![4, 1, 3],
                        action_id: 2,
                        difficulty: 2,
                        held: false,
                        sent_at: None,
                    }
                    .held_since(sent_at),
                ),
                r#"{"type":"draw","quiz_id":[4,1,3],"action_id":2,"difficulty":2,"held":true,"sent_at":"2026-12-01T12:00:00.123Z"}"#,
            ),
            (Event::Relay(relay), r#"{"type":"relay","data":{"score":120}}"#),
            (
                Event::Peer(PeerEvent {
                    role: Role::Controller,
                    connected: false,
                }),
                r#"{"type":"peer","role":"controller","connected":false}"#,
            ),
            (Event::Pong(Pong { id: Some(5.into()) }), r#"{"type":"pong","id":5}"#),
            (Event::Pong(Pong { id: None }), r#"{"type":"pong"}"#),
        ];
        for (event, json) in cases {
            assert_eq!(event.to_json(), json);
            assert_eq!(Event::parse(json).unwrap(), event, "{json}");
        }
    }

    #[test]
    fn clients_ignore_fields_they_do_not_know_and_refuse_unknown_types() {
        let later = r#"{"type":"pong","id":"p","server_time":1}"#;
        assert_eq!(Event::parse(later).unwrap(), Event::Pong(Pong { id: Some("p".into()) }));
        assert!(Event::parse(r#"{"type":"gossip"}"#).is_err());
        assert!(
            Event::parse(r#"{"status":"received"}"#).is_err(),
            "a v1 answer is no v2 event"
        );
    }

    #[test]
    fn relay_frames_splice_the_data_as_sent() {
        let data = RawValue::from_string(r#"[1, {"a" : "b"}]"#.to_owned()).unwrap();
        assert_eq!(relay_json(&data), r#"{"type":"relay","data":[1, {"a" : "b"}]}"#);
    }
}
