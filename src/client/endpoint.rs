//! What `pairlink client` speaks on each endpoint: the URL, what a typed line becomes,
//! and what it remembers across reconnections (a room's last `seq`, to recover with
//! `?since=`).

use tokio_tungstenite::tungstenite;

use crate::protocol::rooms::MemberName;
use crate::protocol::{DeviceId, RoomName};

#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A display: prints draws and what the controller relays; typed lines go to the controller.
    Display(DeviceId),
    /// A controller: a typed number is sent as `{"difficulty":N}`, anything else as typed.
    Controller {
        device: DeviceId,
        /// Sent once, on the first connection.
        difficulty: Option<i64>,
    },
    /// A room member: typed lines must be JSON values.
    Room {
        room: RoomName,
        name: Option<MemberName>,
        /// The last message seen, so that a reconnection replays what was missed.
        last_seq: Option<u64>,
    },
    /// `/echo`.
    Echo,
}

impl Endpoint {
    /// The path and query of the next connection.
    pub fn path(&self) -> String {
        match self {
            Endpoint::Display(device) => format!("/ws/difficulty/unity/{device}"),
            Endpoint::Controller { device, .. } => format!("/ws/difficulty/android/{device}"),
            Endpoint::Room { room, name, last_seq } => {
                let mut query = Vec::new();
                if let Some(name) = name {
                    query.push(("name", name.to_string()));
                }
                if let Some(seq) = last_seq {
                    query.push(("since", seq.to_string()));
                }
                let query = serde_urlencoded::to_string(&query).unwrap_or_default();
                if query.is_empty() {
                    format!("/ws/rooms/{room}")
                } else {
                    format!("/ws/rooms/{room}?{query}")
                }
            }
            Endpoint::Echo => "/echo".to_owned(),
        }
    }

    /// Messages to send as soon as a connection opens.
    pub fn on_connect(&mut self) -> Vec<String> {
        match self {
            Endpoint::Controller { difficulty, .. } => difficulty
                .take()
                .map(|difficulty| serde_json::json!({ "difficulty": difficulty }).to_string())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The message for a typed line; blank lines send nothing.
    pub fn outgoing(&self, line: &str) -> Option<String> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        if let (Endpoint::Controller { .. }, Ok(difficulty)) = (self, line.parse::<i64>()) {
            return Some(serde_json::json!({ "difficulty": difficulty }).to_string());
        }
        Some(line.to_owned())
    }

    /// Notes what a received message tells about the session.
    pub fn observe(&mut self, text: &str) {
        if let Endpoint::Room { last_seq, .. } = self {
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(text) {
                if event["type"] == "message" {
                    if let Some(seq) = event["seq"].as_u64() {
                        *last_seq = Some(last_seq.map_or(seq, |last| last.max(seq)));
                    }
                }
            }
        }
    }
}

/// What to do about a connection attempt that failed.
pub enum Refusal {
    /// Worth retrying (server down, display not there yet, server full …).
    Retry(String),
    /// The request itself is wrong; retrying cannot help.
    Final(String),
}

/// Reads a failed handshake: HTTP refusals carry pairlink's JSON error body.
pub fn refusal(err: &tungstenite::Error) -> Refusal {
    let tungstenite::Error::Http(response) = err else {
        return Refusal::Retry(format!("cannot connect: {err}"));
    };
    let body: serde_json::Value = response
        .body()
        .as_deref()
        .and_then(|body| serde_json::from_slice(body).ok())
        .unwrap_or_default();
    let code = body["code"].as_str().unwrap_or("");
    let message = body["message"].as_str().unwrap_or("");
    let described = format!("HTTP {} {code}: {message}", response.status().as_u16());
    match code {
        "invalid_uuid" | "invalid_room" | "invalid_name" | "invalid_since" | "unknown_code" | "not_websocket" => {
            Refusal::Final(described)
        }
        _ => Refusal::Retry(described),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DeviceId {
        "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap()
    }

    #[test]
    fn a_controller_turns_numbers_into_difficulties_and_sends_the_first_one_once() {
        let mut controller = Endpoint::Controller {
            device: device(),
            difficulty: Some(2),
        };
        assert_eq!(controller.on_connect(), [r#"{"difficulty":2}"#]);
        assert!(controller.on_connect().is_empty(), "not again after a reconnection");
        assert_eq!(controller.outgoing(" 3 ").as_deref(), Some(r#"{"difficulty":3}"#));
        assert_eq!(
            controller.outgoing(r#"{"difficulty":1}"#).as_deref(),
            Some(r#"{"difficulty":1}"#)
        );
        assert_eq!(controller.outgoing("   "), None);
        assert_eq!(Endpoint::Display(device()).outgoing("4").as_deref(), Some("4"));
    }

    #[test]
    fn a_room_member_rejoins_after_the_last_message_it_saw() {
        let mut room = Endpoint::Room {
            room: "lobby".parse().unwrap(),
            name: Some("Ana B".parse().unwrap()),
            last_seq: None,
        };
        assert_eq!(room.path(), "/ws/rooms/lobby?name=Ana+B");
        room.observe(r#"{"type":"welcome","seq":9}"#);
        room.observe(r#"{"type":"message","seq":10}"#);
        room.observe(r#"{"type":"message","seq":11}"#);
        room.observe("not json");
        assert_eq!(room.path(), "/ws/rooms/lobby?name=Ana+B&since=11");
    }
}
