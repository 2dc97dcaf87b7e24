//! The rooms protocol (`/ws/rooms/{room}`): members, their display names, and the
//! sequenced messages every member receives in the same order.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{ClientId, ErrorCode, EventError, RoomName};

/// The longest display name, in characters.
pub const MAX_MEMBER_NAME: usize = 64;

/// The optional `?name=` a member is shown by: 1–64 characters, no control characters,
/// not only spaces. Kept as given (no trimming), so others see what the user typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MemberName(String);

/// Why a `?name=` is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("names are 1-{MAX_MEMBER_NAME} characters, not only spaces, without control characters")]
pub struct InvalidMemberName;

impl FromStr for MemberName {
    type Err = InvalidMemberName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let chars = s.chars().count();
        let valid = (1..=MAX_MEMBER_NAME).contains(&chars) && !s.chars().any(char::is_control) && !s.trim().is_empty();
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidMemberName)
        }
    }
}

impl MemberName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A room member as others see it: `{"id":…,"name":…}` (`name` is null when not given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberCard {
    pub id: ClientId,
    pub name: Option<MemberName>,
}

/// What the server tells room members, apart from messages (see [`message_template`]).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent<'a> {
    /// To a member that just joined: its id, the room's latest `seq`, how many members
    /// the room has (itself included), every member in join order when the room is
    /// small enough to list (`--room-notices-up-to`), whether it will be told of joins
    /// and leaves, and, when it asked to recover with `?since=`, whether every message
    /// after that point could be replayed.
    Welcome {
        id: ClientId,
        seq: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        members: Option<&'a [MemberCard]>,
        count: usize,
        notices: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        recovered: Option<bool>,
    },
    /// To the other members: someone joined.
    Join { id: ClientId, name: Option<&'a MemberName> },
    /// To the remaining members: someone left.
    Leave { id: ClientId },
    /// To a member that asked with `{"type":"roster"}`: one page of the members, in join
    /// order, from `offset`, and how many there are in all.
    Roster {
        count: usize,
        offset: usize,
        members: &'a [MemberCard],
    },
}

impl RoomEvent<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a room event always serialises")
    }
}

/// A room message with a hole where its `seq` goes. The sequence number is given by
/// whoever orders the room's messages (the broker), at the moment it orders them, so the
/// message is prepared here and completed there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqTemplate {
    before: String,
    after: String,
}

impl SeqTemplate {
    /// The text before and after the seq.
    pub fn parts(&self) -> (&str, &str) {
        (&self.before, &self.after)
    }

    /// The complete message for sequence number `seq`.
    pub fn complete(&self, seq: u64) -> String {
        let mut text = String::with_capacity(self.before.len() + 20 + self.after.len());
        text.push_str(&self.before);
        text.push_str(&seq.to_string());
        text.push_str(&self.after);
        text
    }
}

/// `{"type":"message","room":…,"seq":N,"from":…,"name":…,"data":…}`, with `data` exactly
/// as the member sent it.
pub fn message_template(room: &RoomName, from: ClientId, name: Option<&MemberName>, data: &RawValue) -> SeqTemplate {
    // serde quotes and escapes the names; `data` was checked to be JSON and goes as sent.
    let quoted_room = serde_json::to_string(room).expect("a room name serialises");
    let quoted_name = serde_json::to_string(&name).expect("a member name serialises");
    SeqTemplate {
        before: format!(r#"{{"type":"message","room":{quoted_room},"seq":"#),
        after: format!(r#","from":"{from}","name":{quoted_name},"data":{}}}"#, data.get()),
    }
}

/// Reads a member's message: any JSON value, sent as a text frame.
pub fn parse_message(text: &str) -> Result<&RawValue, EventError> {
    serde_json::from_str::<&RawValue>(text).map_err(|err| {
        EventError::new(
            ErrorCode::InvalidMessage,
            format!("room messages are JSON values; this one is not valid JSON: {err}"),
        )
    })
}

/// The most members one roster answer lists; the next page is asked for with `offset`.
pub const ROSTER_PAGE: usize = 1000;

/// A member's `{"type":"roster","offset":N}`: which page of the members it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterRequest {
    pub offset: usize,
}

impl RosterRequest {
    /// The page of `members` this request asks for: at most [`ROSTER_PAGE`] from its
    /// offset (none past the end).
    pub fn page<'a>(&self, members: &'a [MemberCard]) -> &'a [MemberCard] {
        let start = self.offset.min(members.len());
        &members[start..members.len().min(start + ROSTER_PAGE)]
    }
}

/// Whether a member's message is a roster request rather than a message for the room:
/// a JSON object whose `type` is `"roster"`. `None` for a message, else the request or
/// the error that answers a malformed one.
pub fn roster_request(data: &RawValue) -> Option<Result<RosterRequest, EventError>> {
    let text = data.get();
    // Cheap test first: almost every message is for the room.
    if !text.starts_with('{') || !text.contains("roster") {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "type")]
        kind: Option<serde_json::Value>,
        offset: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_str(text).ok()?;
    if probe.kind.as_ref().and_then(serde_json::Value::as_str) != Some("roster") {
        return None;
    }
    let offset = match probe.offset {
        None => Ok(0),
        Some(offset) => offset
            .as_u64()
            .and_then(|offset| usize::try_from(offset).ok())
            .ok_or_else(|| {
                EventError::new(
                    ErrorCode::InvalidMessage,
                    format!("a roster request's offset is a whole number ≥ 0, not {offset}"),
                )
            }),
    };
    Some(offset.map(|offset| RosterRequest { offset }))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_message_completed_with_its_seq_is_the_documented_json() {
        let room: RoomName = "lobby".parse().unwrap();
        let from = ClientId::random();
        let name: MemberName = "Ana \"the\" Quest".parse().unwrap();
        let data = parse_message(r#" {"x": [1, 2]} "#).unwrap();
        let text = message_template(&room, from, Some(&name), data).complete(42);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"type":"message","room":"lobby","seq":42,"from":from.to_string(),
                   "name":"Ana \"the\" Quest","data":{"x":[1,2]}})
        );
    }

    #[test]
    fn a_message_without_a_name_has_a_null_name() {
        let room: RoomName = "r".parse().unwrap();
        let data = parse_message("7").unwrap();
        let value: Value =
            serde_json::from_str(&message_template(&room, ClientId::random(), None, data).complete(1)).unwrap();
        assert_eq!(value["name"], Value::Null);
        assert_eq!(value["data"], json!(7));
    }

    #[test]
    fn only_json_values_are_room_messages() {
        for bad in ["", "hello", "{", "[1,", "{\"a\":1} extra"] {
            let error = parse_message(bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidMessage, "{bad:?}");
        }
    }

    #[test]
    fn roster_requests_are_told_from_messages() {
        let request = |text: &str| roster_request(parse_message(text).unwrap());
        assert_eq!(request(r#"{"type":"roster"}"#), Some(Ok(RosterRequest { offset: 0 })));
        assert_eq!(
            request(r#"{"offset":2000,"type":"roster"}"#),
            Some(Ok(RosterRequest { offset: 2000 }))
        );
        for message in [
            r#"{"text":"roster"}"#,
            r#""roster""#,
            r#"{"type":"rosters"}"#,
            "[\"roster\"]",
        ] {
            assert_eq!(request(message), None, "{message}");
        }
        for bad in [
            r#"{"type":"roster","offset":-1}"#,
            r#"{"type":"roster","offset":"2"}"#,
            r#"{"type":"roster","offset":1.5}"#,
        ] {
            let error = request(bad).unwrap().unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidMessage, "{bad}");
        }
    }

    #[test]
    fn a_roster_comes_in_pages_of_a_thousand() {
        let members: Vec<MemberCard> = (0..2500)
            .map(|_| MemberCard {
                id: ClientId::random(),
                name: None,
            })
            .collect();
        let page = |offset| RosterRequest { offset }.page(&members);
        assert_eq!(page(0), &members[..1000]);
        assert_eq!(page(1000), &members[1000..2000]);
        assert_eq!(page(2000), &members[2000..]);
        assert_eq!(page(2499), &members[2499..]);
        assert!(page(2500).is_empty() && page(usize::MAX).is_empty());
    }

    #[test]
    fn member_names_are_checked() {
        assert!("Ana".parse::<MemberName>().is_ok());
        assert!("名前".parse::<MemberName>().is_ok());
        assert!("x".repeat(MAX_MEMBER_NAME).parse::<MemberName>().is_ok());
        for bad in ["", "   ", "a\nb", "tab\there", &"x".repeat(MAX_MEMBER_NAME + 1)] {
            assert!(bad.parse::<MemberName>().is_err(), "{bad:?} was accepted");
        }
    }
}
