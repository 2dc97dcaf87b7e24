//! What `pairlink client` speaks on each endpoint: the URL, what a typed line becomes,
//! and what it remembers across reconnections (a room's last `seq`, to recover with
//! `?since=`; a controller's next request id).

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use crate::protocol::rooms::MemberName;
use crate::protocol::{DeviceId, RoomName, Version};

#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A display: prints draws and what the controller relays; typed lines go to the controller.
    Display(DeviceId),
    /// A controller: a typed number is a difficulty, anything else relay data (v2) or
    /// sent as typed (v1).
    Controller {
        device: DeviceId,
        /// Sent once, on the first connection.
        difficulty: Option<i64>,
        /// The id of the next v2 difficulty.
        next_id: u64,
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
    pub fn on_connect(&mut self, version: Version) -> Vec<String> {
        let Endpoint::Controller { difficulty, .. } = self else {
            return Vec::new();
        };
        match difficulty.take() {
            Some(difficulty) => vec![self.difficulty(difficulty, version)],
            None => Vec::new(),
        }
    }

    /// A controller's difficulty, with the next id in v2.
    fn difficulty(&mut self, difficulty: i64, version: Version) -> String {
        match (self, version) {
            (Endpoint::Controller { next_id, .. }, Version::V2) => {
                *next_id += 1;
                json!({"type":"difficulty","difficulty":difficulty,"id":*next_id}).to_string()
            }
            _ => json!({ "difficulty": difficulty }).to_string(),
        }
    }

    /// The message for a typed line; blank lines send nothing. In v2, a display's or
    /// controller's line that is not a v2 message already (an object with a `type`) is
    /// relay data: its JSON value, or the line as a string.
    pub fn outgoing(&mut self, line: &str, version: Version) -> Option<String> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        if let (Endpoint::Controller { .. }, Ok(difficulty)) = (&*self, line.parse::<i64>()) {
            return Some(self.difficulty(difficulty, version));
        }
        let pairing = matches!(self, Endpoint::Display(_) | Endpoint::Controller { .. });
        if !pairing || version == Version::V1 {
            return Some(line.to_owned());
        }
        let data = serde_json::from_str::<Value>(line).unwrap_or_else(|_| Value::String(line.to_owned()));
        if data.get("type").is_some() {
            return Some(line.to_owned());
        }
        Some(json!({"type":"relay","data":data}).to_string())
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

/// Whether a close from the server (a v2 refusal in-band, 4001) means "do not come back".
pub fn final_close(code: u16, reason: &str) -> bool {
    match code {
        4001 | 4403 | 4404 => true,
        4400 => reason != "display_offline",
        // Without a way to get a fresh token, retrying cannot help.
        4401 => true,
        _ => false,
    }
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
        "invalid_uuid" | "invalid_room" | "invalid_name" | "invalid_since" | "invalid_notices" | "unknown_code"
        | "not_websocket" => Refusal::Final(described),
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
            next_id: 0,
        };
        assert_eq!(controller.on_connect(Version::V1), [r#"{"difficulty":2}"#]);
        assert!(
            controller.on_connect(Version::V1).is_empty(),
            "not again after a reconnection"
        );
        assert_eq!(
            controller.outgoing(" 3 ", Version::V1).as_deref(),
            Some(r#"{"difficulty":3}"#)
        );
        assert_eq!(
            controller.outgoing(r#"{"difficulty":1}"#, Version::V1).as_deref(),
            Some(r#"{"difficulty":1}"#)
        );
        assert_eq!(controller.outgoing("   ", Version::V1), None);
        assert_eq!(
            Endpoint::Display(device()).outgoing("4", Version::V1).as_deref(),
            Some("4")
        );
    }

    #[test]
    fn in_v2_numbers_are_difficulties_with_ids_and_other_lines_relay_data() {
        let mut controller = Endpoint::Controller {
            device: device(),
            difficulty: Some(2),
            next_id: 0,
        };
        assert_eq!(
            controller.on_connect(Version::V2),
            [r#"{"type":"difficulty","difficulty":2,"id":1}"#]
        );
        assert_eq!(
            controller.outgoing("5", Version::V2).as_deref(),
            Some(r#"{"type":"difficulty","difficulty":5,"id":2}"#)
        );
        let mut display = Endpoint::Display(device());
        for (line, sent) in [
            (r#"{"score":1}"#, r#"{"type":"relay","data":{"score":1}}"#),
            ("well done", r#"{"type":"relay","data":"well done"}"#),
            (r#"{"type":"ping","id":1}"#, r#"{"type":"ping","id":1}"#),
        ] {
            assert_eq!(display.outgoing(line, Version::V2).as_deref(), Some(sent));
        }
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
