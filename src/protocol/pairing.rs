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
