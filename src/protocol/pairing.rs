//! The seed-000 pairing protocol: what a controller sends, what its display receives,
//! and how the controller is answered. These shapes are fixed: deployed Unity and
//! Android clients depend on them byte for byte.

use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// `{"difficulty": N}` from a controller. Other fields are ignored, as the seed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct DifficultyRequest {
    pub difficulty: i64,
}

/// Why a controller's message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("message is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("expected an object like {{\"difficulty\": 1}} with an integer difficulty: {0}")]
    InvalidDifficulty(String),
}

impl RequestError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::InvalidJson(_) => ErrorCode::InvalidJson,
            RequestError::InvalidDifficulty(_) => ErrorCode::InvalidDifficulty,
        }
    }
}

impl DifficultyRequest {
    /// Parses a controller message, telling malformed JSON apart from JSON of the
    /// wrong shape (not an object, field missing, not an integer).
    pub fn parse(bytes: &[u8]) -> Result<Self, RequestError> {
        let request: Self = serde_json::from_slice(bytes).map_err(|err| match err.classify() {
            serde_json::error::Category::Data => RequestError::InvalidDifficulty(err.to_string()),
            _ => RequestError::InvalidJson(err.to_string()),
        })?;
        // serde also fills a struct from an array (`[1]`); only an object is the protocol.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(RequestError::InvalidDifficulty(
                "the message is not a JSON object".to_owned(),
            ));
        }
        Ok(request)
    }
}

/// `{"quiz_id":[a,b,c],"action_id":n}`: what a display receives for each difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub quiz_id: Vec<i32>,
    pub action_id: i32,
}

impl Draw {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a draw always serialises")
    }
}

/// The controller's answer when its difficulty reached the display.
pub const RECEIVED: &str = r#"{"status":"received"}"#;

/// The controller's answer when its display is offline and the draw is held for it
/// (only with `--hold-for`).
pub const QUEUED: &str = r#"{"status":"queued"}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorReply;

    #[test]
    fn reads_the_seed_message_and_ignores_extra_fields() {
        assert_eq!(
            DifficultyRequest::parse(br#"{"difficulty": 1}"#),
            Ok(DifficultyRequest { difficulty: 1 })
        );
        assert_eq!(
            DifficultyRequest::parse(br#"{"difficulty":-3,"player":"p1"}"#),
            Ok(DifficultyRequest { difficulty: -3 })
        );
    }

    #[test]
    fn tells_bad_json_from_bad_shape() {
        for bad_json in [&b"{"[..], b"difficulty 1", b"", b"{\"difficulty\":1} trailing"] {
            let err = DifficultyRequest::parse(bad_json).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidJson, "{bad_json:?}");
        }
        for bad_shape in [
            &br#"[1]"#[..],
            br#"1"#,
            br#"{}"#,
            br#"{"difficulty":"1"}"#,
            br#"{"difficulty":1.5}"#,
            br#"{"difficulty":null}"#,
            br#"{"level":1}"#,
        ] {
            let err = DifficultyRequest::parse(bad_shape).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidDifficulty, "{bad_shape:?}");
        }
    }

    #[test]
    fn display_message_and_replies_have_the_seed_shape() {
        let draw = Draw {
            quiz_id: vec![1, 2, 3],
            action_id: 1,
        };
        assert_eq!(draw.to_json(), r#"{"quiz_id":[1,2,3],"action_id":1}"#);
        let reply = ErrorReply::new(ErrorCode::DisplayOffline, "no display");
        assert_eq!(
            reply.to_json(),
            r#"{"status":"error","code":"display_offline","message":"no display"}"#
        );
    }
}
