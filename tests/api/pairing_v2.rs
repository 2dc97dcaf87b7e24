//! Protocol v2 for a display and a controller: the welcome, difficulties answered with
//! their ids, typed errors, ping, held draws. Every message received is checked against
//! docs/asyncapi.yaml. On Redis the display is on one node and the controller on the other.

use std::time::Duration;

use futures_util::SinkExt;
use pairlink::held::HoldPolicy;
use pairlink::session::{Limits, RateLimit};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::v2_client::{self, CONTROLLER, DISPLAY, expect};

const UUID: &str = "5a0c9e2d-1b3f-4c6a-8d7e-9f0a1b2c3d4e";

on_both_brokers!(
    a_v2_pair_is_welcomed_and_each_difficulty_is_answered_with_its_id,
    bad_requests_are_answered_with_their_ids_and_the_connection_stays,
    a_ping_is_answered_with_a_pong,
    held_draws_are_queued_then_delivered_held_or_expire_with_their_ids,
    a_controller_joining_by_code_learns_its_uuid,
    messages_beyond_the_rate_limit_are_refused_with_their_ids,
);

fn last(app: &Deployment) -> usize {
    app.node_count() - 1
}

async fn send_json(ws: &mut Ws, value: Value) {
    send_text(ws, &value.to_string()).await;
}

async fn a_v2_pair_is_welcomed_and_each_difficulty_is_answered_with_its_id(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog(1..=2, 5))).await;
    let upper = UUID.to_uppercase();
    let (mut display, welcome) = v2_client::display(&app, 0, &upper).await;
    assert_eq!(
        (&welcome["role"], &welcome["uuid"], &welcome["peer"]),
        (&json!("display"), &json!(UUID), &json!(false)),
        "the UUID in canonical lowercase: {welcome}"
    );
    assert_eq!(welcome["idle_timeout_ms"], 60_000);
    assert_eq!(welcome["max_message_bytes"], 65_536);
    assert_eq!(
        (&welcome["rate_limit"], &welcome["hold_ms"]),
        (&Value::Null, &Value::Null)
    );

    let (mut controller, welcome) = v2_client::controller(&app, last(&app), UUID).await;
    assert_eq!(
        (&welcome["role"], &welcome["peer"]),
        (&json!("controller"), &json!(true))
    );
    let joined = expect(&mut display, DISPLAY, "peer").await;
    assert_eq!(joined, json!({"type":"peer","role":"controller","connected":true}));

    for id in [json!(1), json!("second"), json!(-9_007_199_254_740_993_i64)] {
        send_json(&mut controller, json!({"type":"difficulty","difficulty":2,"id":id})).await;
        let draw = expect(&mut display, DISPLAY, "draw").await;
        assert_eq!(draw["difficulty"], 2);
        assert_eq!(draw["action_id"], 2);
        let quizzes: Vec<i64> = serde_json::from_value(draw["quiz_id"].clone()).unwrap();
        assert!(
            quizzes.len() == 3 && quizzes.iter().all(|q| (21..=25).contains(q)),
            "{draw}"
        );
        assert!(draw.get("held").is_none(), "delivered at once: not held");
        let ack = expect(&mut controller, CONTROLLER, "ack").await;
        assert_eq!(ack, json!({"type":"ack","id":id,"status":"received"}));
    }
    send_json(&mut controller, json!({"type":"difficulty","difficulty":1})).await;
    expect(&mut display, DISPLAY, "draw").await;
    let ack = expect(&mut controller, CONTROLLER, "ack").await;
    assert_eq!(ack, json!({"type":"ack","status":"received"}), "no id, none echoed");
}

async fn bad_requests_are_answered_with_their_ids_and_the_connection_stays(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([1], 3))).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    expect(&mut display, DISPLAY, "peer").await;

    let cases = [
        (
            json!({"type":"difficulty","difficulty":9,"id":1}).to_string(),
            "no_content",
            json!(1),
        ),
        (
            json!({"type":"difficulty","difficulty":"1","id":"x"}).to_string(),
            "invalid_difficulty",
            json!("x"),
        ),
        (
            json!({"type":"difficulty","id":2}).to_string(),
            "invalid_difficulty",
            json!(2),
        ),
        (json!({"type":"fly","id":3}).to_string(), "invalid_message", json!(3)),
        (json!({"difficulty":1,"id":4}).to_string(), "invalid_message", json!(4)),
        (json!({"type":"relay","id":5}).to_string(), "invalid_message", json!(5)),
        (
            json!({"type":"ping","id":1.5}).to_string(),
            "invalid_message",
            Value::Null,
        ),
        (
            json!({"type":"ping","id":{"a":1}}).to_string(),
            "invalid_message",
            Value::Null,
        ),
        (
            json!({"type":"ping","id":"x".repeat(65)}).to_string(),
            "invalid_message",
            Value::Null,
        ),
        ("not json".to_owned(), "invalid_message", Value::Null),
        ("[1,2]".to_owned(), "invalid_message", Value::Null),
    ];
    for (sent, code, id) in cases {
        send_text(&mut controller, &sent).await;
        let error = expect(&mut controller, CONTROLLER, "error").await;
        assert_eq!(
            (&error["code"], error.get("id").unwrap_or(&Value::Null)),
            (&json!(code), &id),
            "{sent}"
        );
    }
    // A display sends no difficulties.
    send_json(&mut display, json!({"type":"difficulty","difficulty":1,"id":7})).await;
    let error = expect(&mut display, DISPLAY, "error").await;
    assert_eq!((&error["code"], &error["id"]), (&json!("invalid_message"), &json!(7)));
    // Both connections are still there, and work.
    send_json(&mut controller, json!({"type":"difficulty","difficulty":1,"id":8})).await;
    expect(&mut display, DISPLAY, "draw").await;
    assert_eq!(expect(&mut controller, CONTROLLER, "ack").await["id"], 8);
}

async fn a_ping_is_answered_with_a_pong(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    for ping in [
        json!({"type":"ping","id":5}),
        json!({"type":"ping","id":"p"}),
        json!({"type":"ping"}),
    ] {
        send_json(&mut display, ping.clone()).await;
        let pong = expect(&mut display, DISPLAY, "pong").await;
        assert_eq!(pong.get("id"), ping.get("id"));
    }
}

fn holding(hold_for: Duration) -> Options {
    Options::new()
        .catalog(tagged_catalog(1..=2, 3))
        .config(move |c| c.hold = Some(HoldPolicy { hold_for, hold_max: 4 }))
}

async fn held_draws_are_queued_then_delivered_held_or_expire_with_their_ids(broker: BrokerKind) {
    let app = Deployment::with(broker, holding(Duration::from_secs(30))).await;
    let (display, welcome) = v2_client::display(&app, 0, UUID).await;
    assert_eq!(welcome["hold_ms"], 30_000);
    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    close_and_wait(display).await;
    expect(&mut controller, CONTROLLER, "peer").await;

    send_json(&mut controller, json!({"type":"difficulty","difficulty":2,"id":"h1"})).await;
    let ack = expect(&mut controller, CONTROLLER, "ack").await;
    assert_eq!(ack, json!({"type":"ack","id":"h1","status":"queued"}));
    let (mut display, welcome) = v2_client::display(&app, 0, UUID).await;
    assert_eq!(welcome["peer"], true);
    let draw = expect(&mut display, DISPLAY, "draw").await;
    assert_eq!((&draw["held"], &draw["difficulty"]), (&json!(true), &json!(2)));
    let sent_at = humantime::parse_rfc3339(draw["sent_at"].as_str().unwrap()).unwrap();
    assert!(sent_at <= std::time::SystemTime::now());

    // A draw held for a display that does not come back expires, answered with its id.
    let app = Deployment::with(broker, holding(Duration::from_millis(200))).await;
    let (display, _) = v2_client::display(&app, 0, UUID).await;
    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    close_and_wait(display).await;
    expect(&mut controller, CONTROLLER, "peer").await;
    send_json(&mut controller, json!({"type":"difficulty","difficulty":1,"id":42})).await;
    assert_eq!(expect(&mut controller, CONTROLLER, "ack").await["status"], "queued");
    let expired = expect(&mut controller, CONTROLLER, "error").await;
    assert_eq!((&expired["code"], &expired["id"]), (&json!("expired"), &json!(42)));
}

async fn a_controller_joining_by_code_learns_its_uuid(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    let issued = app.http(0, "POST", &format!("/api/pairings/{UUID}/code")).await.json();
    let code = issued["code"].as_str().unwrap();
    let url = app.url(last(&app), &format!("/ws/join/{code}"));
    let mut controller = v2_client::connect_v2(&url).await;
    let welcome = expect(&mut controller, CONTROLLER, "welcome").await;
    assert_eq!(
        (&welcome["uuid"], &welcome["role"]),
        (&json!(UUID), &json!("controller"))
    );
    expect(&mut display, DISPLAY, "peer").await;
    send_json(&mut controller, json!({"type":"difficulty","difficulty":1,"id":1})).await;
    expect(&mut display, DISPLAY, "draw").await;
    assert_eq!(expect(&mut controller, CONTROLLER, "ack").await["status"], "received");
}

async fn messages_beyond_the_rate_limit_are_refused_with_their_ids(broker: BrokerKind) {
    let rate: RateLimit = "1/2".parse().unwrap();
    let limits = Limits {
        rate_limit: Some(rate),
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    let (mut display, welcome) = v2_client::display(&app, 0, UUID).await;
    assert_eq!(welcome["rate_limit"], json!({"per_second":1,"burst":2}));
    for id in 1..=3 {
        display
            .send(Message::text(json!({"type":"ping","id":id}).to_string()))
            .await
            .unwrap();
    }
    assert_eq!(expect(&mut display, DISPLAY, "pong").await["id"], 1);
    assert_eq!(expect(&mut display, DISPLAY, "pong").await["id"], 2);
    let limited = expect(&mut display, DISPLAY, "error").await;
    assert_eq!((&limited["code"], &limited["id"]), (&json!("rate_limited"), &json!(3)));
}
