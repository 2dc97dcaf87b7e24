//! What the bench reads off the wire: one read from a socket, sorted; a controller's
//! answer and a display's draw, checked against the seed protocol. Any server is
//! measured, so nothing is compared byte for byte beyond the fast path: JSON is parsed
//! (a Go server, for one, appends a newline).

use serde::Deserialize;
use tokio_tungstenite::tungstenite::{self, Bytes, Message};

use crate::protocol::pairing::{Draw, RECEIVED};

/// One read from a socket, sorted.
pub enum Incoming {
    Text(Bytes),
    Binary(Bytes),
    /// Pings and pongs (tungstenite answers pings itself).
    Control,
    /// The connection is over, and why.
    Ended(String),
}

impl From<Option<Result<Message, tungstenite::Error>>> for Incoming {
    fn from(frame: Option<Result<Message, tungstenite::Error>>) -> Self {
        match frame {
            Some(Ok(message @ Message::Text(_))) => Incoming::Text(message.into_data()),
            Some(Ok(Message::Binary(bytes))) => Incoming::Binary(bytes),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Incoming::Control,
            Some(Ok(Message::Close(frame))) => Incoming::Ended(match frame {
                Some(frame) => format!("closed by the server with {} {}", u16::from(frame.code), frame.reason),
                None => "closed by the server".to_owned(),
            }),
            Some(Err(err)) => Incoming::Ended(err.to_string()),
            None => Incoming::Ended("the connection was dropped".to_owned()),
        }
    }
}

/// How a controller was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `{"status":"received"}`: the draw went to the display.
    Received,
    /// `{"status":"error","code":…}`, with the code (or `unknown` when there is none).
    Error(String),
    /// Anything else, described.
    Malformed(String),
}

/// Reads a controller's answer.
pub fn read_reply(bytes: &[u8]) -> Reply {
    if bytes.trim_ascii() == RECEIVED.as_bytes() {
        return Reply::Received;
    }
    #[derive(Deserialize)]
    struct Status {
        status: String,
        code: Option<String>,
    }
    match serde_json::from_slice::<Status>(bytes) {
        Ok(reply) if reply.status == "received" => Reply::Received,
        Ok(reply) if reply.status == "error" => Reply::Error(reply.code.unwrap_or_else(|| "unknown".to_owned())),
        _ => Reply::Malformed(format!("unexpected answer to the controller: {}", excerpt(bytes))),
    }
}

/// Checks a display message: `{"quiz_id":[…],"action_id":n}` with 1 to 3 distinct quiz ids.
pub fn check_draw(bytes: &[u8]) -> Result<(), String> {
    let draw: Draw = serde_json::from_slice(bytes)
        .map_err(|err| format!("display message is not a draw ({err}): {}", excerpt(bytes)))?;
    let ids = &draw.quiz_id;
    if ids.is_empty() || ids.len() > 3 {
        return Err(format!(
            "display message has {} quiz ids: {}",
            ids.len(),
            excerpt(bytes)
        ));
    }
    let distinct = ids.iter().enumerate().all(|(i, id)| !ids[..i].contains(id));
    if !distinct {
        return Err(format!("display message repeats a quiz id: {}", excerpt(bytes)));
    }
    Ok(())
}

/// The start of a message, for error reports.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    match text.char_indices().nth(120) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_acknowledgements_with_or_without_trailing_newline() {
        assert_eq!(read_reply(br#"{"status":"received"}"#), Reply::Received);
        assert_eq!(read_reply(b"{\"status\":\"received\"}\n"), Reply::Received);
        assert_eq!(read_reply(br#"{ "status" : "received" }"#), Reply::Received);
    }

    #[test]
    fn reads_error_codes_and_flags_anything_else() {
        assert_eq!(
            read_reply(br#"{"status":"error","code":"no_content","message":"none"}"#),
            Reply::Error("no_content".to_owned())
        );
        assert_eq!(read_reply(br#"{"status":"error"}"#), Reply::Error("unknown".to_owned()));
        assert!(matches!(read_reply(b"ok"), Reply::Malformed(_)));
        assert!(matches!(read_reply(br#"{"status":"fine"}"#), Reply::Malformed(_)));
    }

    #[test]
    fn accepts_one_to_three_distinct_quizzes() {
        assert_eq!(check_draw(br#"{"quiz_id":[1,2,3],"action_id":7}"#), Ok(()));
        assert_eq!(check_draw(b"{\"quiz_id\":[4],\"action_id\":1}\n"), Ok(()));
    }

    #[test]
    fn refuses_other_draws() {
        for bad in [
            &br#"{"quiz_id":[],"action_id":1}"#[..],
            br#"{"quiz_id":[1,2,3,4],"action_id":1}"#,
            br#"{"quiz_id":[1,1],"action_id":1}"#,
            br#"{"quiz_id":[1],"action_id":"1"}"#,
            br#"{"quiz_id":[1.5],"action_id":1}"#,
            br#"{"quiz_id":[1]}"#,
            br#"{"status":"received"}"#,
            b"not json",
        ] {
            assert!(check_draw(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
