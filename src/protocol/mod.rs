//! Messages on the wire and the identifiers in URLs, shared by the server, the tests
//! and the tools that speak to it. Everything untrusted is parsed here, once, into types.
//! The error reply shape is common to every endpoint; each protocol has its own module.

pub mod pairing;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
