//! Messages on the wire and the identifiers in URLs, shared by the server, the tests
//! and the tools that speak to it. Everything untrusted is parsed here, once, into types.
//! The error reply shape is common to every endpoint; each protocol has its own module.

pub mod close;
pub mod pairing;
pub mod parcel;
pub mod rooms;
pub mod signaling;
pub mod v2;

use std::fmt;
use std::str::FromStr;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use tungstenite::{Message, Utf8Bytes};
use uuid::Uuid;

/// The version of the pairing protocol a connection speaks: v1 (the seed's, frozen), or
/// v2 when the client offered the `pairlink.v2` subprotocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// No `pairlink.v2` among the offered subprotocols.
    #[default]
    V1,
    /// `pairlink.v2` was offered.
    V2,
}

/// A data frame, as a client sent it or as it travels between nodes: text or binary.
/// Cheap to clone (reference-counted bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(Utf8Bytes),
    Binary(Bytes),
}

impl Frame {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Frame::Text(text) => text.as_bytes(),
            Frame::Binary(bytes) => bytes,
        }
    }

    /// The data frame in `message`, if it is one.
    pub fn of(message: &Message) -> Option<Self> {
        match message {
            Message::Text(text) => Some(Frame::Text(text.clone())),
            Message::Binary(bytes) => Some(Frame::Binary(bytes.clone())),
            _ => None,
        }
    }
}

impl From<Frame> for Message {
    fn from(frame: Frame) -> Self {
        match frame {
            Frame::Text(text) => Message::Text(text),
            Frame::Binary(bytes) => Message::Binary(bytes),
        }
    }
}

/// Between nodes a frame is `{"text":…}` or `{"binary":[…]}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FrameData<'a> {
    Text(#[serde(borrow)] std::borrow::Cow<'a, str>),
    Binary(Vec<u8>),
}

impl Serialize for Frame {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Frame::Text(text) => FrameData::Text(text.as_str().into()),
            Frame::Binary(bytes) => FrameData::Binary(bytes.to_vec()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match FrameData::deserialize(deserializer)? {
            FrameData::Text(text) => Frame::Text(text.into_owned().into()),
            FrameData::Binary(bytes) => Frame::Binary(bytes.into()),
        })
    }
}

/// The UUID a display and its controller share.
///
/// Accepted only in the hyphenated 8-4-4-4-12 form, any case and any version, and kept
/// as a [`Uuid`] so that `ABC…` and `abc…` name the same pair. It is shown in canonical
/// lowercase form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(Uuid);

impl DeviceId {
    pub fn new(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

/// Why a path segment is not a [`DeviceId`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a UUID (expected the form 8-4-4-4-12 hex digits, e.g. de358130-e94a-5692-8b09-d27007ad1944)")]
pub struct InvalidDeviceId(pub String);

impl FromStr for DeviceId {
    type Err = InvalidDeviceId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // `Uuid::parse_str` also takes the simple, braced and URN forms; the protocol
        // names only the hyphenated one, so anything else is refused up front.
        let hyphenated = s.len() == 36
            && s.bytes()
                .enumerate()
                .all(|(i, b)| matches!(i, 8 | 13 | 18 | 23) == (b == b'-'));
        match Uuid::parse_str(s) {
            Ok(uuid) if hyphenated => Ok(Self(uuid)),
            _ => Err(InvalidDeviceId(s.chars().take(64).collect())),
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// The id the server gives a room member or a signaling peer when it joins: random, so
/// that no client can claim another's id, and unique across nodes without coordination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(Uuid);

impl ClientId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl FromStr for ClientId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// A room's name, as in `/ws/rooms/{room}` and `/ws/signal/{room}`: 1–64 characters of
/// `[A-Za-z0-9_.-]`, so that it is safe in URLs, logs and Redis keys as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoomName(String);

/// The longest room name, in characters.
pub const MAX_ROOM_NAME: usize = 64;

/// Why a path segment is not a [`RoomName`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("room names are 1-{MAX_ROOM_NAME} characters of A-Z, a-z, 0-9, '_', '.' and '-'")]
pub struct InvalidRoomName;

impl FromStr for RoomName {
    type Err = InvalidRoomName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        if (1..=MAX_ROOM_NAME).contains(&s.len()) && s.bytes().all(allowed) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidRoomName)
        }
    }
}

impl RoomName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which side of a pair a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The headset (`/ws/difficulty/unity/{uuid}`): connects first, receives draws.
    Display,
    /// The phone (`/ws/difficulty/android/{uuid}`): sends difficulties.
    Controller,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Display => "display",
            Role::Controller => "controller",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error codes sent as `{"status":"error","code":…}`; each is documented in docs/protocol.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message was not JSON.
    InvalidJson,
    /// JSON, but not an object with an integer `difficulty`.
    InvalidDifficulty,
    /// No quiz or no action exists at that difficulty.
    NoContent,
    /// The controller's display is not connected right now (also the HTTP 400 body
    /// when a controller connects before its display).
    DisplayOffline,
    /// The URL's `{uuid}` is not a UUID (HTTP 400 before the upgrade).
    InvalidUuid,
    /// The controller's message was held for a display that did not come back in time.
    Expired,
    /// The controller's message could not be held: the UUID already holds `--hold-max`.
    QueueFull,
    /// The client sent messages faster than `--rate-limit` allows; the message was dropped.
    RateLimited,
    /// HTTP 503 before the upgrade: the server holds `--max-connections` WebSockets.
    ServerFull,
    /// HTTP 4xx: a plain HTTP request reached a WebSocket URL.
    NotWebsocket,
    /// HTTP 400: the room name in the URL breaks the naming rule.
    InvalidRoom,
    /// HTTP 400: `?name=` is empty, too long or holds control characters.
    InvalidName,
    /// HTTP 400: `?since=` is not a non-negative integer.
    InvalidSince,
    /// HTTP 400: a room's `?notices=` is neither `true` nor `false`.
    InvalidNotices,
    /// HTTP 400: a QR code's `?target=` is neither `ws` nor `page`.
    InvalidTarget,
    /// A room or signaling message was not what the endpoint takes (not JSON, wrong shape).
    InvalidMessage,
    /// A binary frame reached an endpoint that takes only JSON text.
    UnsupportedBinary,
    /// A signaling message named a peer that is not in the room.
    UnknownPeer,
    /// A display's message could not be relayed: no controller is connected for its UUID.
    ControllerOffline,
    /// HTTP 404: no live pairing code is that one (never issued, expired, or its display left).
    UnknownCode,
    /// HTTP 429: this address looked up too many unknown pairing codes; wait and retry.
    TooManyGuesses,
    /// HTTP 401: the server requires a token (`--auth-secret`) and none was presented.
    TokenRequired,
    /// HTTP 401: the token's `exp` has passed.
    TokenExpired,
    /// HTTP 401: the token is malformed, signed with another key, or for another scope.
    TokenInvalid,
    /// HTTP 403: a browser page from an origin not in `--allowed-origins`.
    OriginNotAllowed,
    /// With `--redis-url`: Redis cannot be reached, so an operation that spans nodes
    /// failed (HTTP 503 before the upgrade). Retry; the node recovers by itself.
    BrokerUnavailable,
}

impl ErrorCode {
    /// Every code, in declaration order (so `code as usize` indexes it).
    pub const ALL: [ErrorCode; 26] = [
        ErrorCode::InvalidJson,
        ErrorCode::InvalidDifficulty,
        ErrorCode::NoContent,
        ErrorCode::DisplayOffline,
        ErrorCode::InvalidUuid,
        ErrorCode::Expired,
        ErrorCode::QueueFull,
        ErrorCode::RateLimited,
        ErrorCode::ServerFull,
        ErrorCode::NotWebsocket,
        ErrorCode::InvalidRoom,
        ErrorCode::InvalidName,
        ErrorCode::InvalidSince,
        ErrorCode::InvalidNotices,
        ErrorCode::InvalidTarget,
        ErrorCode::InvalidMessage,
        ErrorCode::UnsupportedBinary,
        ErrorCode::UnknownPeer,
        ErrorCode::ControllerOffline,
        ErrorCode::UnknownCode,
        ErrorCode::TooManyGuesses,
        ErrorCode::TokenRequired,
        ErrorCode::TokenExpired,
        ErrorCode::TokenInvalid,
        ErrorCode::OriginNotAllowed,
        ErrorCode::BrokerUnavailable,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidDifficulty => "invalid_difficulty",
            ErrorCode::NoContent => "no_content",
            ErrorCode::DisplayOffline => "display_offline",
            ErrorCode::InvalidUuid => "invalid_uuid",
            ErrorCode::Expired => "expired",
            ErrorCode::QueueFull => "queue_full",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServerFull => "server_full",
            ErrorCode::NotWebsocket => "not_websocket",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidSince => "invalid_since",
            ErrorCode::InvalidNotices => "invalid_notices",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnsupportedBinary => "unsupported_binary",
            ErrorCode::UnknownPeer => "unknown_peer",
            ErrorCode::ControllerOffline => "controller_offline",
            ErrorCode::UnknownCode => "unknown_code",
            ErrorCode::TooManyGuesses => "too_many_guesses",
            ErrorCode::TokenRequired => "token_required",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::BrokerUnavailable => "broker_unavailable",
        }
    }
}

/// `{"status":"error","code":"…","message":"…"}`: a failed message; the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub status: String,
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorReply {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: "error".to_owned(),
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an error reply always serialises")
    }

    /// The answer to a message that needed another node while Redis is unreachable.
    pub fn broker_unavailable() -> Self {
        Self::new(ErrorCode::BrokerUnavailable, UNAVAILABLE_MESSAGE)
    }
}

/// What a client is told when the scale-out broker (Redis) cannot be reached.
const UNAVAILABLE_MESSAGE: &str =
    "the server cannot reach its other nodes right now (Redis is unavailable); retry shortly";

/// An error sent to a client, whatever its shape: what `pairlink_errors_total` counts.
pub trait WireError {
    fn code(&self) -> ErrorCode;
    fn to_json(&self) -> String;
}

impl WireError for ErrorReply {
    fn code(&self) -> ErrorCode {
        self.code
    }

    fn to_json(&self) -> String {
        ErrorReply::to_json(self)
    }
}

impl WireError for EventError {
    fn code(&self) -> ErrorCode {
        self.code
    }

    fn to_json(&self) -> String {
        EventError::to_json(self)
    }
}

/// `{"type":"error","code":"…","message":"…"}`: the in-band error of the endpoints whose
/// messages are typed events (rooms, signaling). The connection stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "error")]
pub struct EventError {
    pub code: ErrorCode,
    pub message: String,
    /// The peer a signaling message was meant for, when it is the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

impl EventError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            target_id: None,
        }
    }

    /// The answer to a binary frame, which these endpoints do not take.
    pub fn binary_unsupported() -> Self {
        Self::new(
            ErrorCode::UnsupportedBinary,
            "this endpoint takes JSON in text frames; the binary message was dropped",
        )
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an error event always serialises")
    }

    /// A message dropped because it needed another node while Redis is unreachable.
    pub fn broker_unavailable() -> Self {
        Self::new(ErrorCode::BrokerUnavailable, UNAVAILABLE_MESSAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_written_as_serde_writes_them() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn room_names_follow_the_naming_rule() {
        for good in ["a", "lobby", "Team_1.blue-2", &"x".repeat(MAX_ROOM_NAME)] {
            assert_eq!(good.parse::<RoomName>().unwrap().as_str(), good);
        }
        for bad in [
            "",
            "two words",
            "caf\u{e9}",
            "a/b",
            "%20",
            &"x".repeat(MAX_ROOM_NAME + 1),
        ] {
            assert!(bad.parse::<RoomName>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn device_ids_are_case_insensitive_and_shown_lowercase() {
        let upper: DeviceId = "DE358130-E94A-5692-8B09-D27007AD1944".parse().unwrap();
        let lower: DeviceId = "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.to_string(), "de358130-e94a-5692-8b09-d27007ad1944");
    }

    #[test]
    fn device_ids_accept_any_version_including_nil() {
        assert!("00000000-0000-0000-0000-000000000000".parse::<DeviceId>().is_ok());
        assert!("6ba7b810-9dad-11d1-80b4-00c04fd430c8".parse::<DeviceId>().is_ok());
    }

    #[test]
    fn device_ids_refuse_other_forms() {
        for bad in [
            "",
            "not-a-uuid",
            "de358130e94a56928b09d27007ad1944",
            "{de358130-e94a-5692-8b09-d27007ad1944}",
            "urn:uuid:de358130-e94a-5692-8b09-d27007ad1944",
            "de358130-e94a-5692-8b09-d27007ad194",
            "de358130-e94a-5692-8b09-d27007ad1944a",
            "de358130-e94a-5692-8b09-d27007ad194g",
            "de358130-e94a5-692-8b09-d27007ad1944",
        ] {
            assert!(bad.parse::<DeviceId>().is_err(), "{bad:?} was accepted");
        }
    }
}
