//! What reaches one side of a pair from the other side or from pairlink, before it is
//! written in the protocol version that side speaks. A parcel crosses nodes as it is;
//! the node holding the receiving connection writes it for that connection, so a v1
//! display and a v2 controller (or the reverse) each read only their own version.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tungstenite::{Message, Utf8Bytes};

use super::pairing::Draw;
use super::{Frame, Role, Version};

/// A message for one side of a pair. Between nodes it is externally tagged
/// (`{"draw":{…}}`), which serde reads without buffering it first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parcel {
    /// A draw for the display, for the difficulty its controller asked for.
    Draw {
        draw: Draw,
        difficulty: i64,
        /// When the draw was held for an absent display: when the controller sent it,
        /// in milliseconds since the Unix epoch.
        held_since_ms: Option<u64>,
    },
    /// Relay data from the other side of the pair.
    Relay {
        data: Frame,
        /// Whether the text is known to be JSON (v2 relay data); a v1 display's text may
        /// be anything.
        json: bool,
    },
    /// The other side of the pair (`role`) connected or went.
    Presence { role: Role, connected: bool },
}

impl Parcel {
    /// The message a connection speaking `version` receives, or `None` when that
    /// version has no such message (v1 knows nothing of presence).
    pub fn encode(&self, version: Version) -> Option<Message> {
        match (self, version) {
            (Parcel::Draw { draw, .. }, Version::V1) => Some(Message::Text(draw.to_text())),
            (
                Parcel::Draw {
                    draw,
                    difficulty,
                    held_since_ms,
                },
                Version::V2,
            ) => Some(text(draw_v2(draw, *difficulty, *held_since_ms))),
            (Parcel::Relay { data, .. }, Version::V1) => Some(data.clone().into()),
            (Parcel::Relay { data, json }, Version::V2) => Some(match data {
                Frame::Binary(bytes) => Message::Binary(bytes.clone()),
                Frame::Text(data) => text(relay_v2(data, *json)),
            }),
            (Parcel::Presence { .. }, Version::V1) => None,
            (Parcel::Presence { role, connected }, Version::V2) => Some(text(format!(
                r#"{{"type":"peer","role":"{role}","connected":{connected}}}"#
            ))),
        }
    }
}

fn text(json: String) -> Message {
    Message::Text(Utf8Bytes::from(json))
}

/// `{"type":"draw","quiz_id":[…],"action_id":N,"difficulty":D[,"held":true,"sent_at":…]}`.
fn draw_v2(draw: &Draw, difficulty: i64, held_since_ms: Option<u64>) -> String {
    use std::fmt::Write;
    let mut json = String::with_capacity(96);
    json.push_str(r#"{"type":"draw","quiz_id":"#);
    let _ = draw.write_quiz_ids(&mut json);
    let _ = write!(json, r#","action_id":{},"difficulty":{difficulty}"#, draw.action_id);
    if let Some(ms) = held_since_ms {
        let sent = UNIX_EPOCH + Duration::from_millis(ms);
        let _ = write!(
            json,
            r#","held":true,"sent_at":"{}""#,
            humantime::format_rfc3339_millis(sent)
        );
    }
    json.push('}');
    json
}

/// `{"type":"relay","data":V}`: text known to be JSON goes in as it is; other text (from
/// a v1 display) goes in as it is when it is JSON, and as a JSON string when it is not.
fn relay_v2(data: &Utf8Bytes, json: bool) -> String {
    let value = if json || serde_json::from_str::<&RawValue>(data.as_str()).is_ok() {
        data.as_str().to_owned()
    } else {
        serde_json::to_string(data.as_str()).expect("a string serialises")
    };
    let mut out = String::with_capacity(value.len() + 24);
    out.push_str(r#"{"type":"relay","data":"#);
    out.push_str(&value);
    out.push('}');
    out
}

/// Milliseconds since the Unix epoch, for [`Parcel::Draw::held_since_ms`].
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn draw() -> Parcel {
        Parcel::Draw {
            draw: Draw {
                quiz_id: vec![4, 1, 3],
                action_id: 2,
            },
            difficulty: 2,
            held_since_ms: None,
        }
    }

    fn as_text(message: Option<Message>) -> String {
        match message {
            Some(Message::Text(text)) => text.to_string(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn each_version_reads_a_draw_in_its_own_shape() {
        assert_eq!(
            as_text(draw().encode(Version::V1)),
            r#"{"quiz_id":[4,1,3],"action_id":2}"#
        );
        assert_eq!(
            as_text(draw().encode(Version::V2)),
            r#"{"type":"draw","quiz_id":[4,1,3],"action_id":2,"difficulty":2}"#
        );
        let Parcel::Draw { draw, difficulty, .. } = draw() else {
            unreachable!()
        };
        let held = Parcel::Draw {
            draw,
            difficulty,
            held_since_ms: Some(1_764_590_400_123),
        };
        let value: Value = serde_json::from_str(&as_text(held.encode(Version::V2))).unwrap();
        assert_eq!(value["held"], true);
        assert_eq!(value["sent_at"], "2025-12-01T12:00:00.123Z");
    }

    #[test]
    fn relay_data_is_translated_between_versions() {
        let from_v2 = Parcel::Relay {
            data: Frame::Text(r#"{"a": [1, 2]}"#.into()),
            json: true,
        };
        assert_eq!(as_text(from_v2.encode(Version::V1)), r#"{"a": [1, 2]}"#);
        assert_eq!(
            as_text(from_v2.encode(Version::V2)),
            r#"{"type":"relay","data":{"a": [1, 2]}}"#
        );
        let not_json = Parcel::Relay {
            data: Frame::Text("score \"9\"".into()),
            json: false,
        };
        let value: Value = serde_json::from_str(&as_text(not_json.encode(Version::V2))).unwrap();
        assert_eq!(value, json!({"type":"relay","data":"score \"9\""}));
        let binary = Parcel::Relay {
            data: Frame::Binary(vec![0, 255].into()),
            json: false,
        };
        for version in [Version::V1, Version::V2] {
            assert_eq!(binary.encode(version), Some(Message::Binary(vec![0, 255].into())));
        }
    }

    #[test]
    fn presence_is_for_v2_only() {
        let presence = Parcel::Presence {
            role: Role::Controller,
            connected: false,
        };
        assert_eq!(presence.encode(Version::V1), None);
        assert_eq!(
            as_text(presence.encode(Version::V2)),
            r#"{"type":"peer","role":"controller","connected":false}"#
        );
    }

    #[test]
    fn parcels_cross_nodes_unchanged() {
        for parcel in [
            draw(),
            Parcel::Relay {
                data: Frame::Binary(vec![1, 2, 3].into()),
                json: false,
            },
            Parcel::Presence {
                role: Role::Display,
                connected: true,
            },
        ] {
            let wire = serde_json::to_string(&parcel).unwrap();
            assert_eq!(serde_json::from_str::<Parcel>(&wire).unwrap(), parcel);
        }
    }
}
