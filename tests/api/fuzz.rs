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
use pairlink::protocol::v2::{self, Event, Request, RequestId};
use pairlink::protocol::{ClientId, DeviceId, ErrorCode, Role, RoomName};
use proptest::prelude::*;
use serde_json::{Value, json};

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

/// v2 requests as clients write them, and as they should not.
fn v2_request_text() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just(json!("difficulty")),
        Just(json!("relay")),
        Just(json!("ping")),
        Just(json!("welcome")),
        json_value()
    ];
    let field = |value: BoxedStrategy<Value>| prop::option::of(value);
    (
        field(kind.boxed()),
        field(
            prop_oneof![
                json_value(),
                any::<i64>().prop_map(Value::from),
                ".{0,70}".prop_map(Value::String)
            ]
            .boxed(),
        ),
        field(prop_oneof![json_value(), any::<i64>().prop_map(Value::from)].boxed()),
        field(json_value().boxed()),
    )
        .prop_map(|(kind, id, difficulty, data)| {
            let mut object = serde_json::Map::new();
            for (name, value) in [("type", kind), ("id", id), ("difficulty", difficulty), ("data", data)] {
                if let Some(value) = value {
                    object.insert(name.to_owned(), value);
                }
            }
            Value::Object(object).to_string()
        })
}

fn request_id() -> impl Strategy<Value = Option<RequestId>> {
    prop::option::of(prop_oneof![
        any::<i64>().prop_map(RequestId::from),
        any::<u64>().prop_map(|id| RequestId::Integer(id.into())),
        ".{0,64}".prop_map(|id| RequestId::from(id.as_str())),
    ])
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Display), Just(Role::Controller)]
}

/// Every kind of v2 event, with arbitrary contents.
fn v2_event() -> impl Strategy<Value = Event> {
    let millis = 0u64..4_102_444_800_000;
    let time = millis.prop_map(|ms| std::time::SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
    let code = (0..ErrorCode::ALL.len()).prop_map(|i| ErrorCode::ALL[i]);
    prop_oneof![
        (
            role(),
            any::<u128>(),
            any::<bool>(),
            any::<u64>(),
            any::<u64>(),
            prop::option::of((any::<u32>(), any::<u32>())),
            prop::option::of(any::<u64>())
        )
            .prop_map(|(role, uuid, peer, idle, max, rate, hold)| Event::Welcome(v2::Welcome {
                role,
                uuid: DeviceId::new(uuid::Uuid::from_u128(uuid)),
                peer,
                idle_timeout_ms: idle,
                max_message_bytes: max,
                rate_limit: rate.map(|(per_second, burst)| v2::RateLimit { per_second, burst }),
                hold_ms: hold,
            })),
        (request_id(), any::<bool>()).prop_map(|(id, received)| Event::Ack(v2::Ack {
            id,
            status: if received {
                v2::AckStatus::Received
            } else {
                v2::AckStatus::Queued
            },
        })),
        (request_id(), code, ".{0,40}", prop::option::of(any::<u64>())).prop_map(|(id, code, message, retry_after)| {
            Event::Error(v2::ErrorEvent {
                id,
                code,
                message: message.into(),
                retry_after,
            })
        }),
        (
            prop::collection::vec(any::<i32>(), 0..4),
            any::<i32>(),
            any::<i64>(),
            prop::option::of(time)
        )
            .prop_map(|(quiz_id, action_id, difficulty, held)| {
                let draw = v2::Draw::from_v1(pairlink::protocol::pairing::Draw { quiz_id, action_id }, difficulty);
                Event::Draw(match held {
                    Some(sent_at) => draw.held_since(sent_at),
                    None => draw,
                })
            }),
        json_value().prop_map(|data| Event::Relay(v2::Relay {
            data: serde_json::value::to_raw_value(&data).unwrap(),
        })),
        (role(), any::<bool>()).prop_map(|(role, connected)| Event::Peer(v2::PeerEvent { role, connected })),
        request_id().prop_map(|id| Event::Pong(v2::Pong { id })),
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
    fn difficulty_errors_say_invalid_json_exactly_for_text_that_is_not_json(text in message_text()) {
        if let Err(err) = DifficultyRequest::parse(text.as_bytes()) {
            let is_json = serde_json::from_str::<Value>(&text).is_ok();
            let expected = if is_json { ErrorCode::InvalidDifficulty } else { ErrorCode::InvalidJson };
            prop_assert_eq!(err.code(), expected, "{}", text);
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
    fn v2_requests_never_panic_and_every_refusal_is_a_defined_error(text in prop_oneof![message_text(), v2_request_text()], role in role()) {
        match Request::parse(&text, role) {
            Ok(request) => {
                let written: Value = serde_json::from_str(&request.to_json()).unwrap();
                let sent: Value = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(&written["type"], &sent["type"]);
                prop_assert_eq!(&written["id"], &sent["id"], "the id keeps its JSON type");
            }
            Err(error) => {
                prop_assert!(matches!(error.code, ErrorCode::InvalidMessage | ErrorCode::InvalidDifficulty));
                let echoed = serde_json::to_value(&error.id).unwrap();
                if !echoed.is_null() {
                    let sent: Value = serde_json::from_str(&text).unwrap();
                    prop_assert_eq!(echoed, sent["id"].clone());
                }
                let event: Value = serde_json::from_str(&Event::Error(error).to_json()).unwrap();
                prop_assert_eq!(&event["type"], "error");
            }
        }
    }

    #[test]
    fn v2_requests_read_back_as_written(id in request_id(), difficulty in any::<i64>(), data in json_value()) {
        let data = serde_json::value::to_raw_value(&data).unwrap();
        for request in [
            Request::Difficulty { difficulty, id: id.clone() },
            Request::Relay { data: &data, id: id.clone() },
            Request::Ping { id: id.clone() },
        ] {
            let json = request.to_json();
            let read = Request::parse(&json, Role::Controller).unwrap();
            prop_assert_eq!(read.to_json(), json);
        }
    }

    #[test]
    fn v2_events_are_json_that_reads_back_as_the_same_event(event in v2_event()) {
        let json = event.to_json();
        prop_assert!(serde_json::from_str::<Value>(&json).is_ok(), "{}", json);
        prop_assert_eq!(Event::parse(&json).unwrap(), event);
    }

    #[test]
    fn v1_text_always_becomes_relay_data_that_parses(text in message_text()) {
        let frame = v2::relay_json(&v2::data_from_v1_text(&text));
        let event: Value = serde_json::from_str(&frame).unwrap();
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => prop_assert_eq!(&event["data"], &value),
            Err(_) => prop_assert_eq!(&event["data"], &Value::String(text.clone())),
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
