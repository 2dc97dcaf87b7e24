//! The seed-000 pairing protocol: what a controller sends, what its display receives,
//! and how the controller is answered. These shapes are fixed: deployed Unity and
//! Android clients depend on them byte for byte.

use std::fmt;

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
        if let Some(request) = Self::parse_plain(bytes) {
            return Ok(request);
        }
        // serde's error category cannot tell the two apart: filling the struct from
        // `[1,2]` fails as a syntax error (trailing elements), and `{"difficulty":"1"`
        // fails on its type before the missing brace is seen. So a failed message is
        // read once more, as any JSON, to say which it is.
        let request: Self = serde_json::from_slice(bytes).map_err(|err| {
            if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
                RequestError::InvalidDifficulty(err.to_string())
            } else {
                RequestError::InvalidJson(err.to_string())
            }
        })?;
        // serde also fills a struct from an array (`[1]`); only an object is the protocol.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(RequestError::InvalidDifficulty(
                "the message is not a JSON object".to_owned(),
            ));
        }
        Ok(request)
    }

    /// The message every client sends, `{"difficulty":N}` exactly (no spaces, a
    /// non-negative integer without leading zeros, at most 18 digits), read without
    /// serde; `None` for anything else, which serde then reads (with the same result
    /// for these bytes).
    fn parse_plain(bytes: &[u8]) -> Option<Self> {
        let digits = bytes.strip_prefix(br#"{"difficulty":"#)?.strip_suffix(b"}")?;
        let well_formed =
            matches!(digits, [b'0'] | [b'1'..=b'9', ..]) && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit);
        well_formed.then(|| Self {
            difficulty: digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')),
        })
    }
}

/// `{"quiz_id":[a,b,c],"action_id":n}`: what a display receives for each difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub quiz_id: Vec<i32>,
    pub action_id: i32,
}

impl Draw {
    /// The v1 message, written directly: a draw goes out for every difficulty, and
    /// serde's serializer did more work than these few integers need.
    pub fn to_json(&self) -> String {
        let mut json = String::with_capacity(32 + 12 * self.quiz_id.len());
        self.write_json(&mut json).expect("a String takes any text");
        json
    }

    /// The v1 message as the text of a WebSocket message. A usual draw is written on
    /// the stack and copied once into a buffer of its exact size: a `String` whose
    /// capacity exceeds its length costs a second allocation when it becomes `Bytes`.
    pub fn to_text(&self) -> tungstenite::Utf8Bytes {
        let mut json = StackText::default();
        match self.write_json(&mut json) {
            Ok(()) => json.as_str().into(),
            // Longer than any draw pairlink makes (only ever deserialised).
            Err(fmt::Error) => self.to_json().into(),
        }
    }

    fn write_json(&self, json: &mut impl fmt::Write) -> fmt::Result {
        json.write_str(r#"{"quiz_id":"#)?;
        self.write_quiz_ids(json)?;
        json.write_str(r#","action_id":"#)?;
        json.write_str(itoa::Buffer::new().format(self.action_id))?;
        json.write_str("}")
    }

    /// `[a,b,c]`, the quiz ids as a JSON array.
    pub fn write_quiz_ids(&self, json: &mut impl fmt::Write) -> fmt::Result {
        let mut digits = itoa::Buffer::new();
        json.write_str("[")?;
        for (i, id) in self.quiz_id.iter().enumerate() {
            if i > 0 {
                json.write_str(",")?;
            }
            json.write_str(digits.format(*id))?;
        }
        json.write_str("]")
    }
}

/// Room on the stack for a v1 draw of up to 4 ids of 11 characters each
/// (`-2147483648`): 12 + 4 × 11 + 3 + 14 + 11 + 1 = 85 bytes. A draw has at most 3
/// (`QUIZZES_PER_DRAW`); writing more than fits fails, and goes through a `String`.
struct StackText {
    bytes: [u8; 96],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self { bytes: [0; 96], len: 0 }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("only whole strs are written")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The controller's answer when its difficulty reached the display.
pub const RECEIVED: &str = r#"{"status":"received"}"#;

/// The controller's answer when its display is offline and the draw is held for it
/// (only with `--hold-for`).
pub const QUEUED: &str = r#"{"status":"queued"}"#;

/// The letters pairing codes are made of: no 0/O and no 1/I/L, which people misread
/// when they copy a code from a headset's screen to a phone.
pub const CODE_ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a pairing code: 31^6 ≈ 887 million codes.
pub const CODE_LENGTH: usize = 6;

/// A short code standing for a display's UUID while that display is connected (like
/// AirConsole's or Unity Relay's join codes). Read case-insensitively, shown in capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PairingCode([u8; CODE_LENGTH]);

/// Why a string is not a [`PairingCode`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("pairing codes are {CODE_LENGTH} characters from {alphabet}", alphabet = std::str::from_utf8(CODE_ALPHABET).unwrap_or_default())]
pub struct InvalidPairingCode;

impl PairingCode {
    /// A code drawn uniformly from the alphabet.
    pub fn random() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        Self(std::array::from_fn(|_| {
            CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]
        }))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("codes are ASCII")
    }
}

impl std::str::FromStr for PairingCode {
    type Err = InvalidPairingCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != CODE_LENGTH {
            return Err(InvalidPairingCode);
        }
        let mut code = [0u8; CODE_LENGTH];
        for (slot, byte) in code.iter_mut().zip(bytes) {
            let upper = byte.to_ascii_uppercase();
            if !CODE_ALPHABET.contains(&upper) {
                return Err(InvalidPairingCode);
            }
            *slot = upper;
        }
        Ok(Self(code))
    }
}

impl std::fmt::Display for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PairingCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorReply;

    #[test]
    fn pairing_codes_are_case_insensitive_and_avoid_look_alikes() {
        let code: PairingCode = "k7m2qx".parse().unwrap();
        assert_eq!(code.to_string(), "K7M2QX");
        assert_eq!("K7M2QX".parse::<PairingCode>(), Ok(code));
        for bad in [
            "K7M2Q", "K7M2QXY", "K7M2Q0", "K7M2QO", "K7M2Q1", "K7M2QI", "K7M2QL", "K7M2Q-", "K7M2Qé",
        ] {
            assert!(bad.parse::<PairingCode>().is_err(), "{bad:?} was accepted");
        }
        for _ in 0..1000 {
            let random = PairingCode::random();
            assert_eq!(random.to_string().parse::<PairingCode>(), Ok(random));
        }
    }

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
        for bad_json in [
            &b"{"[..],
            b"difficulty 1",
            b"",
            b"{\"difficulty\":1} trailing",
            b"{\"difficulty\":\"1\"",
            b"[1,2",
            b"\xff",
        ] {
            let err = DifficultyRequest::parse(bad_json).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidJson, "{bad_json:?}");
        }
        for bad_shape in [
            &br#"[1]"#[..],
            br#"[1,2]"#,
            br#"[1,2,3]"#,
            br#"[{"difficulty":1},2]"#,
            br#"[]"#,
            br#"1"#,
            br#""difficulty""#,
            br#"{"difficulty":1,"difficulty":2}"#,
            br#"{"difficulty":18446744073709551616}"#,
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
    fn the_plain_request_reads_as_serde_reads_it() {
        for text in [
            "0",
            "1",
            "5",
            "42",
            "999999999999999999",
            "01",
            "-1",
            "1.0",
            "1e2",
            "",
            " 1",
            "+1",
            "1000000000000000000",
            "9223372036854775807",
            "9223372036854775808",
        ] {
            let message = format!(r#"{{"difficulty":{text}}}"#);
            let by_serde = serde_json::from_str::<DifficultyRequest>(&message).ok();
            let plain = DifficultyRequest::parse_plain(message.as_bytes());
            if plain.is_some() {
                assert_eq!(plain, by_serde, "{message}");
            }
            assert_eq!(DifficultyRequest::parse(message.as_bytes()).ok(), by_serde, "{message}");
        }
        assert_eq!(
            DifficultyRequest::parse_plain(br#"{"difficulty":3}"#),
            Some(DifficultyRequest { difficulty: 3 })
        );
        assert_eq!(DifficultyRequest::parse_plain(br#"{"difficulty": 3}"#), None);
    }

    #[test]
    fn a_draw_is_written_as_serde_would_write_it() {
        for (quiz_id, action_id) in [
            (vec![], 0),
            (vec![7], -3),
            (vec![i32::MIN, 0, i32::MAX], i32::MAX),
            (vec![500, 12, 3], 100),
            (vec![i32::MIN; 4], i32::MIN),
            (vec![i32::MIN; 5], i32::MIN),
        ] {
            let draw = Draw { quiz_id, action_id };
            assert_eq!(draw.to_json(), serde_json::to_string(&draw).unwrap());
            assert_eq!(draw.to_text().as_str(), draw.to_json());
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
