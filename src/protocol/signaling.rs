//! The WebRTC signaling protocol (`/ws/signal/{room}`), in seed 001's message shape:
//! peers learn who is in the room and pass offers, answers and ICE candidates to one
//! another by id. The server reads only `type` and `target_id`; everything else a peer
//! sends (the SDP, candidates in whatever form its WebRTC stack uses, extra fields)
//! reaches the target unchanged.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{ClientId, ErrorCode, EventError};

/// What the server tells signaling peers.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalEvent<'a> {
    /// To a peer that just joined: its id and the peers already there, in join order.
    Welcome { id: ClientId, peers: &'a [ClientId] },
    /// To the peers already there.
    PeerJoined { id: ClientId },
    /// To the remaining peers.
    PeerLeft { id: ClientId },
}

impl SignalEvent<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a signaling event always serialises")
    }
}

/// The message types a peer may send.
pub const SIGNAL_TYPES: [&str; 3] = ["offer", "answer", "candidate"];

/// A peer's message, ready for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub target: ClientId,
    /// The sender's object with `"id"` set to the sender's id (whatever it said).
    pub relayed: String,
}

impl Signal {
    /// Reads `{"type":"offer"|"answer"|"candidate","target_id":…,…}` from peer `from`.
    pub fn parse(text: &str, from: ClientId) -> Result<Self, EventError> {
        let invalid = |message: String| EventError::new(ErrorCode::InvalidMessage, message);
        let mut object: Map<String, Value> = serde_json::from_str(text).map_err(|err| {
            invalid(format!(
                "signaling messages are JSON objects like {{\"type\":\"offer\",\"target_id\":…,\"sdp\":…}}: {err}"
            ))
        })?;
        match object.get("type").and_then(Value::as_str) {
            Some(kind) if SIGNAL_TYPES.contains(&kind) => {}
            _ => {
                return Err(invalid(
                    "\"type\" must be \"offer\", \"answer\" or \"candidate\"".to_owned(),
                ));
            }
        }
        let target_text = match object.get("target_id") {
            Some(Value::String(target)) => target.clone(),
            _ => return Err(invalid("\"target_id\" must be the id of a peer in the room".to_owned())),
        };
        let target = target_text.parse().map_err(|_| unknown_peer(&target_text))?;
        // Never trust a sender-supplied id: the target learns who really sent it.
        object.insert("id".to_owned(), Value::String(from.to_string()));
        let relayed = serde_json::to_string(&object).expect("a JSON object serialises");
        Ok(Self { target, relayed })
    }
}

/// `{"type":"error","code":"unknown_peer","target_id":…}`: the target is not in the room.
pub fn unknown_peer(target_id: &str) -> EventError {
    EventError {
        target_id: Some(target_id.chars().take(64).collect()),
        ..EventError::new(ErrorCode::UnknownPeer, "no peer with that id is in this room")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_target_receives_the_message_with_the_senders_real_id() {
        let (from, to) = (ClientId::random(), ClientId::random());
        let text = json!({"type":"offer","target_id":to.to_string(),"sdp":"v=0","id":"forged","extra":1}).to_string();
        let signal = Signal::parse(&text, from).unwrap();
        assert_eq!(signal.target, to);
        let relayed: Value = serde_json::from_str(&signal.relayed).unwrap();
        assert_eq!(
            relayed,
            json!({"type":"offer","target_id":to.to_string(),"sdp":"v=0","id":from.to_string(),"extra":1})
        );
    }

    #[test]
    fn candidates_pass_in_any_shape() {
        let to = ClientId::random();
        for candidate in [
            json!(["candidate:1 1 udp 1 127.0.0.1 5000 typ host"]),
            json!({"sdpMid":"0"}),
        ] {
            let text = json!({"type":"candidate","target_id":to.to_string(),"candidate":candidate}).to_string();
            let relayed: Value =
                serde_json::from_str(&Signal::parse(&text, ClientId::random()).unwrap().relayed).unwrap();
            assert_eq!(relayed["candidate"], candidate);
        }
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        let to = ClientId::random().to_string();
        for bad in [
            "not json".to_owned(),
            "[1]".to_owned(),
            json!({"target_id":to}).to_string(),
            json!({"type":"hello","target_id":to}).to_string(),
            json!({"type":"offer"}).to_string(),
            json!({"type":"offer","target_id":7}).to_string(),
        ] {
            let error = Signal::parse(&bad, ClientId::random()).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidMessage, "{bad}");
        }
    }

    #[test]
    fn a_target_that_is_not_an_id_is_an_unknown_peer() {
        let error = Signal::parse(r#"{"type":"answer","target_id":"bob"}"#, ClientId::random()).unwrap_err();
        assert_eq!(error.code, ErrorCode::UnknownPeer);
        assert_eq!(error.target_id.as_deref(), Some("bob"));
    }
}
