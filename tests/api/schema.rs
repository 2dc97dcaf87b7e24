//! The message schemas of docs/asyncapi.yaml, for checking what the server really sends:
//! [`assert_message`] validates a message against one message's payload, a named schema
//! or any message of an endpoint (channel). The document's own examples, the messages
//! the protocol types write and a few wrong messages are checked here too, so that the
//! document and the code cannot drift apart unnoticed.

use std::sync::LazyLock;

use pairlink::protocol::pairing::{Draw, QUEUED, RECEIVED};
use pairlink::protocol::v2::{self, Event};
use pairlink::protocol::{DeviceId, ErrorCode, ErrorReply, Role};
use serde_json::{Value, json};

use crate::helpers::*;

/// docs/asyncapi.yaml as JSON, YAML aliases resolved.
static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let text = include_str!("../../docs/asyncapi.yaml");
    serde_norway::from_str(text).expect("docs/asyncapi.yaml is YAML")
});

/// `schema` with every `{"$ref":"#/…"}` replaced by what it points to in the document
/// (its references are local and not recursive), so a plain JSON Schema validator reads it.
fn inline(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => match object.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local reference");
                let target = DOCUMENT
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} is not in docs/asyncapi.yaml"));
                inline(target)
            }
            None => Value::Object(object.iter().map(|(k, v)| (k.clone(), inline(v))).collect()),
        },
        Value::Array(items) => Value::Array(items.iter().map(inline).collect()),
        other => other.clone(),
    }
}

/// Why `message` breaks `schema`, or `None` when it is valid.
fn violations(schema: &Value, message: &Value) -> Option<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&inline(schema))
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(message)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// The payload schemas `name` stands for: a message (`v2.welcome`), a schema
/// (`HttpRefusal`) or every message of a channel (`pairingController`).
fn schemas(name: &str) -> Vec<(String, Value)> {
    let components = &DOCUMENT["components"];
    if let Some(message) = components["messages"].get(name) {
        return vec![(name.to_owned(), message["payload"].clone())];
    }
    if let Some(schema) = components["schemas"].get(name) {
        return vec![(name.to_owned(), schema.clone())];
    }
    let channel = DOCUMENT["channels"]
        .get(name)
        .unwrap_or_else(|| panic!("{name} is no message, schema or channel of docs/asyncapi.yaml"));
    channel["messages"]
        .as_object()
        .expect("a channel's messages")
        .iter()
        .map(|(key, message)| (key.clone(), inline(message)["payload"].clone()))
        .collect()
}

/// Fails unless `message` is valid for `name`: a message of docs/asyncapi.yaml
/// (`v2.refusal`), one of its schemas (`HttpRefusal`), or an endpoint's channel
/// (`pairingController`), which any of that channel's messages satisfies.
pub fn assert_message(name: &str, message: &Value) {
    let mut reasons = Vec::new();
    for (key, schema) in schemas(name) {
        match violations(&schema, message) {
            None => return,
            Some(reason) => reasons.push(format!("{key}: {reason}")),
        }
    }
    panic!("{message} is not a valid {name}:\n{}", reasons.join("\n"));
}

/// The payloads of every message pairlink sends on any endpoint (the `send` operations).
static SENT: LazyLock<Vec<(String, Value)>> = LazyLock::new(|| {
    let mut sent = Vec::new();
    for operation in DOCUMENT["operations"].as_object().expect("operations").values() {
        if operation["action"] != "send" {
            continue;
        }
        for message in operation["messages"].as_array().into_iter().flatten() {
            let message = inline(message);
            let name = message["name"].as_str().unwrap_or_default().to_owned();
            sent.push((name, inline(&message["payload"])));
        }
    }
    sent
});

/// The value a payload schema fixes for `field`, if it fixes one.
fn fixed(schema: &Value, field: &str) -> Option<Value> {
    let property = &schema["properties"][field];
    property.get("const").cloned().or_else(|| {
        property["enum"]
            .as_array()
            .filter(|values| values.len() == 1)
            .map(|values| values[0].clone())
    })
}

/// Fails unless `message`, received on any endpoint, is valid for a message pairlink
/// sends with the same `type` (typed events: v2, rooms, signaling) or `status` (v1's
/// answers). Anything else is relayed data, whose shape is the sender's. Every test's
/// `next_json` goes through here.
pub fn assert_sent(message: &Value) {
    for field in ["type", "status"] {
        let Some(value) = message.get(field) else { continue };
        let candidates: Vec<&(String, Value)> = SENT
            .iter()
            .filter(|(_, schema)| fixed(schema, field).as_ref() == Some(value))
            .collect();
        if candidates.is_empty() {
            return;
        }
        let reasons: Vec<String> = candidates
            .iter()
            .filter_map(|(name, schema)| violations(schema, message).map(|reason| format!("{name}: {reason}")))
            .collect();
        assert!(
            reasons.len() < candidates.len(),
            "{message} breaks docs/asyncapi.yaml:\n{}",
            reasons.join("\n")
        );
        return;
    }
}

/// Whether `message` would pass [`assert_message`].
fn is_valid(name: &str, message: &Value) -> bool {
    schemas(name)
        .iter()
        .any(|(_, schema)| violations(schema, message).is_none())
}

#[test]
fn every_example_in_the_document_is_valid_for_its_message() {
    let messages = DOCUMENT["components"]["messages"].as_object().unwrap();
    let mut checked = 0;
    for (name, message) in messages {
        for example in message["examples"].as_array().into_iter().flatten() {
            assert_message(name, &example["payload"]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} examples");
}

#[test]
fn every_endpoint_has_a_channel_and_every_channel_an_operation_each_way() {
    let addresses: Vec<&str> = DOCUMENT["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|channel| channel["address"].as_str().unwrap())
        .collect();
    for path in [
        "/ws/difficulty/unity/{uuid}",
        "/ws/difficulty/android/{uuid}",
        "/ws/join/{code}",
        "/ws/rooms/{room}",
        "/ws/signal/{room}",
        "/ws",
        "/echo",
    ] {
        assert!(addresses.contains(&path), "{path} is not described");
    }
    let operations = DOCUMENT["operations"].as_object().unwrap();
    for channel in DOCUMENT["channels"].as_object().unwrap().keys() {
        for action in ["send", "receive"] {
            let reference = format!("#/channels/{channel}");
            assert!(
                operations
                    .values()
                    .any(|op| op["action"] == action && op["channel"]["$ref"] == reference.as_str()),
                "{channel} has no {action} operation"
            );
        }
    }
}

#[test]
fn what_the_protocol_types_write_is_valid() {
    let device: DeviceId = "de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap();
    let parse = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    let draw = Draw {
        quiz_id: vec![4, 1, 3],
        action_id: 2,
    };
    assert_message("v1.draw", &parse(&draw.to_json()));
    assert_message("v1.received", &parse(RECEIVED));
    assert_message("v1.queued", &parse(QUEUED));
    for code in ["no_content", "invalid_json", "broker_unavailable"] {
        let code: ErrorCode = serde_json::from_value(json!(code)).unwrap();
        assert_message("v1.controllerError", &parse(&ErrorReply::new(code, "m").to_json()));
    }
    let v2_draw = v2::Draw::from_v1(draw, 2);
    let events = [
        ("v2.draw", Event::Draw(v2_draw.clone())),
        ("v2.draw", Event::Draw(v2_draw.held_since(std::time::SystemTime::now()))),
        (
            "v2.welcome",
            Event::Welcome(v2::Welcome {
                role: Role::Display,
                uuid: device,
                peer: false,
                idle_timeout_ms: 60_000,
                max_message_bytes: 65_536,
                rate_limit: Some(v2::RateLimit {
                    per_second: 20,
                    burst: 40,
                }),
                hold_ms: Some(30_000),
            }),
        ),
        (
            "v2.ack",
            Event::Ack(v2::Ack {
                id: Some("a".into()),
                status: v2::AckStatus::Queued,
            }),
        ),
        (
            "v2.error",
            Event::Error(v2::ErrorEvent::new(ErrorCode::InvalidMessage, "m").with_id(Some(3.into()))),
        ),
        (
            "v2.refusal",
            Event::Error(v2::ErrorEvent::new(ErrorCode::TooManyGuesses, "m").with_retry_after(9)),
        ),
        (
            "v2.peer",
            Event::Peer(v2::PeerEvent {
                role: Role::Controller,
                connected: true,
            }),
        ),
        ("v2.pong", Event::Pong(v2::Pong { id: None })),
        (
            "v2.relay",
            Event::Relay(v2::Relay {
                data: serde_json::value::to_raw_value(&json!([1, {"a": null}])).unwrap(),
            }),
        ),
    ];
    for (name, event) in events {
        assert_message(name, &parse(&event.to_json()));
    }
}

#[test]
fn wrong_messages_are_rejected() {
    let uuid = "de358130-e94a-5692-8b09-d27007ad1944";
    for (name, wrong) in [
        ("v1.draw", json!({"quiz_id": [1, 2, 3], "action_id": 1, "extra": 1})),
        ("v1.draw", json!({"quiz_id": [1, 1], "action_id": 1})),
        ("v1.draw", json!({"quiz_id": [], "action_id": 1})),
        ("v1.received", json!({"status": "receivd"})),
        (
            "v1.controllerError",
            json!({"status": "error", "code": "controller_offline", "message": ""}),
        ),
        ("v1.difficulty", json!({"difficulty": "1"})),
        (
            "v2.difficulty",
            json!({"type": "difficulty", "difficulty": 1, "id": 1.5}),
        ),
        (
            "v2.difficulty",
            json!({"type": "difficulty", "difficulty": 1, "id": "x".repeat(65)}),
        ),
        (
            "v2.welcome",
            json!({"type": "welcome", "role": "display", "uuid": uuid, "peer": true}),
        ),
        (
            "v2.draw",
            json!({"type": "draw", "quiz_id": [1], "action_id": 1, "difficulty": 1, "held": true}),
        ),
        (
            "v2.draw",
            json!({"type": "draw", "quiz_id": [1], "action_id": 1, "difficulty": 1,
                            "held": true, "sent_at": "2026-12-01T12:00:00Z"}),
        ),
        (
            "v2.error",
            json!({"type": "error", "code": "server_full", "message": ""}),
        ),
        (
            "v2.refusal",
            json!({"type": "error", "code": "too_many_guesses", "message": ""}),
        ),
        ("v2.relay", json!({"type": "relay"})),
        (
            "rooms.welcome",
            json!({"type": "welcome", "id": uuid, "seq": 0, "members": [{"id": uuid}]}),
        ),
        (
            "signal.error",
            json!({"type": "error", "code": "unknown_peer", "message": ""}),
        ),
        (
            "HttpRefusal",
            json!({"status": "error", "code": "no_content", "message": ""}),
        ),
        ("pairingDisplay", json!({"status": "received"})),
    ] {
        assert!(!is_valid(name, &wrong), "{wrong} passed as {name}");
    }
    assert_message("pairingController", &json!({"status": "received"}));
}

#[tokio::test]
async fn the_server_serves_the_document() {
    let app = spawn_default(pairlink::db::Backend::Sqlite).await;
    let reply = http(&app, "GET", "/api/asyncapi.yaml").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/yaml"));
    assert_eq!(reply.body, include_str!("../../docs/asyncapi.yaml"));
}

#[test]
fn what_every_test_receives_is_checked_by_type_or_status() {
    let breaks = |message: Value| std::panic::catch_unwind(|| assert_sent(&message)).is_err();
    assert!(
        breaks(json!({"type":"welcome","role":"display"})),
        "a welcome without its fields"
    );
    assert!(breaks(json!({"type":"peer","role":"display","connected":"yes"})));
    assert!(breaks(json!({"status":"error","code":"not_a_code","message":"x"})));
    assert!(breaks(json!({"type":"message","room":"r","seq":"1"})));
    assert!(!breaks(json!({"type":"peer","role":"controller","connected":true})));
    assert!(!breaks(json!({"status":"received"})));
    // Relayed data is the sender's: anything without pairlink's own type goes.
    assert!(!breaks(json!({"score":120,"level":[1,2]})));
}
