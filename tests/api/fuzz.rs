//! Property tests over every parser of untrusted input: wire messages, identifiers in
//! URLs, catalogue files and connection tokens. Each takes arbitrary input without
//! panicking, and what it accepts is what the protocol says it accepts. They run with
//! proptest's default 256 cases per property in the test suite; set PROPTEST_CASES to
//! search longer.

use std::str::FromStr;
use std::time::Duration;

use pairlink::auth::{self, Auth, AuthSecret, Scope};
use pairlink::catalog::import::{CatalogFile, Format};
use pairlink::protocol::pairing::{DifficultyRequest, PairingCode};
use pairlink::protocol::rooms::{MemberName, parse_message};
use pairlink::protocol::signaling::Signal;
use pairlink::protocol::{ClientId, DeviceId, RoomName};
use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON values, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Text that is often JSON-ish: arbitrary strings, or JSON with a twist.
fn message_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        json_value().prop_map(|v| v.to_string()),
        (json_value(), ".{0,4}").prop_map(|(v, tail)| format!("{v}{tail}")),
    ]
}

/// Checks that accepted identifiers show as what parses back to them.
fn round_trips<T: FromStr + ToString + PartialEq + std::fmt::Debug>(s: &str) {
    if let Ok(parsed) = s.parse::<T>() {
        assert_eq!(parsed.to_string().parse::<T>().ok(), Some(parsed));
    }
}

proptest! {
    #[test]
    fn difficulty_messages_never_panic_and_accept_only_objects_with_an_integer(text in message_text()) {
        let parsed = DifficultyRequest::parse(text.as_bytes());
        let value: Option<Value> = serde_json::from_str(&text).ok();
        let valid = value.as_ref().is_some_and(|v| v.get("difficulty").is_some_and(Value::is_i64) && v.is_object());
        prop_assert_eq!(parsed.is_ok(), valid, "{}", text);
        if let (Ok(request), Some(value)) = (parsed, value) {
            prop_assert_eq!(Some(request.difficulty), value["difficulty"].as_i64());
        }
    }

    #[test]
    fn difficulty_messages_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = DifficultyRequest::parse(&bytes);
    }

    #[test]
    fn room_messages_are_exactly_the_json_values(text in message_text()) {
        let accepted = parse_message(&text).map(|raw| raw.get().to_owned());
        let is_json = serde_json::from_str::<Value>(&text).is_ok();
        prop_assert_eq!(accepted.is_ok(), is_json);
        if let Ok(raw) = accepted {
            prop_assert_eq!(serde_json::from_str::<Value>(&raw).unwrap(), serde_json::from_str::<Value>(&text).unwrap());
        }
    }

    #[test]
    fn signals_carry_the_senders_id_whatever_they_claim(
        extra in json_value(),
        kind in prop_oneof![Just("offer".to_owned()), Just("answer".to_owned()), Just("candidate".to_owned()), ".{0,8}"],
        forged in ".{0,40}",
    ) {
        let (from, to) = (ClientId::random(), ClientId::random());
        let mut object = serde_json::json!({"type": kind, "target_id": to.to_string(), "id": forged});
        object["extra"] = extra;
        match Signal::parse(&object.to_string(), from) {
            Ok(signal) => {
                prop_assert!(["offer", "answer", "candidate"].contains(&kind.as_str()));
                prop_assert_eq!(signal.target, to);
                let relayed: Value = serde_json::from_str(&signal.relayed).unwrap();
                prop_assert_eq!(relayed["id"].clone(), Value::String(from.to_string()));
            }
            Err(_) => prop_assert!(!["offer", "answer", "candidate"].contains(&kind.as_str())),
        }
    }

    #[test]
    fn signal_parsing_takes_any_text(text in message_text()) {
        let _ = Signal::parse(&text, ClientId::random());
    }

    #[test]
    fn identifiers_in_urls_never_panic_and_round_trip(s in ".{0,80}") {
        round_trips::<DeviceId>(&s);
        round_trips::<RoomName>(&s);
        round_trips::<MemberName>(&s);
        round_trips::<PairingCode>(&s);
    }

    #[test]
    fn catalogue_files_never_panic(text in message_text(), csv in "[a-z_,\"\n0-9 ]{0,120}") {
        let _ = CatalogFile::parse(text.as_bytes(), Format::Json);
        let _ = CatalogFile::parse(csv.as_bytes(), Format::Csv);
        let _ = CatalogFile::parse(format!("id,name,difficulty,lef_sel,rig_sel,detail\n{csv}").as_bytes(), Format::Csv);
    }

    #[test]
    fn valid_catalogue_rows_are_read_back_as_written(
        rows in prop::collection::vec((1..1000i32, "[A-Za-z][A-Za-z ?]{0,20}", 0..10i32), 1..8),
    ) {
        let quizzes: Vec<Value> = rows
            .iter()
            .enumerate()
            .map(|(i, (_, name, difficulty))| serde_json::json!({
                "id": i + 1, "name": name, "difficulty": difficulty, "lef_sel": "a", "rig_sel": "b", "detail": ""
            }))
            .collect();
        let text = serde_json::json!({"quizzes": quizzes, "actions": []}).to_string();
        let file = CatalogFile::parse(text.as_bytes(), Format::Json).unwrap();
        prop_assert_eq!(file.quizzes.len(), rows.len());
        for (row, (_, name, difficulty)) in file.quizzes.iter().zip(&rows) {
            prop_assert_eq!(&row.name, name);
            prop_assert_eq!(row.difficulty, *difficulty);
        }
    }

    #[test]
    fn tokens_that_were_not_issued_are_never_accepted(token in ".{0,200}") {
        let secret: AuthSecret = "a-test-secret-of-at-least-32-bytes!!".parse().unwrap();
        let auth = Auth::new(&secret);
        prop_assert!(auth.check(Some(&token), &Scope::Hub).is_err());
    }

    #[test]
    fn a_tampered_token_is_refused(flip in 0usize..400, bit in 0u8..6) {
        let secret: AuthSecret = "a-test-secret-of-at-least-32-bytes!!".parse().unwrap();
        let original_token = auth::issue(&secret, &Scope::Hub, Duration::from_secs(60));
        let mut bytes = original_token.clone().into_bytes();
        let i = flip % bytes.len();
        let original = bytes[i];
        bytes[i] ^= 1 << bit;
        prop_assume!(bytes[i] != original && bytes[i].is_ascii_graphic());
        let tampered = String::from_utf8(bytes).unwrap();
        // Base64url has several spellings of the same final bits, so a changed character
        // may leave the token's bytes as they were: only then may it still be accepted.
        let decoded = |t: &str| -> Vec<Option<Vec<u8>>> {
            use base64::Engine;
            t.split('.').map(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok()).collect()
        };
        if Auth::new(&secret).check(Some(&tampered), &Scope::Hub).is_ok() {
            prop_assert_eq!(decoded(&tampered), decoded(&original_token));
        }
    }
}
