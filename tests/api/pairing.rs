//! The seed pairing protocol as a Unity display and an Android controller see it.

use std::collections::HashSet;

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;

const UUID: &str = "de358130-e94a-5692-8b09-d27007ad1944";

on_both_brokers!(
    a_difficulty_reaches_the_display_and_the_controller_is_acknowledged,
    fewer_than_three_quizzes_are_all_drawn,
    the_display_must_connect_first,
    a_controller_right_after_the_display_101_is_accepted,
    uuids_are_case_insensitive_and_anything_else_is_refused,
    a_newer_display_replaces_the_older_one,
    a_newer_controller_replaces_the_older_one,
    a_controller_outlives_its_display_and_works_again_after_reconnect,
    a_hundred_pairs_exchange_without_loss_duplication_or_crossing,
    health_check_answers_200,
);

async fn a_difficulty_reaches_the_display_and_the_controller_is_acknowledged(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog(1..=2, 5))).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;

    for _ in 0..20 {
        send_text(&mut controller, r#"{"difficulty": 2}"#).await;
        let raw = next_text(&mut display).await;
        let draw: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let quiz_ids: Vec<i64> = serde_json::from_value(draw["quiz_id"].clone()).unwrap();
        assert_eq!(quiz_ids.len(), 3, "{raw}");
        assert_eq!(quiz_ids.iter().collect::<HashSet<_>>().len(), 3, "distinct: {raw}");
        assert!(
            quiz_ids.iter().all(|id| (21..=25).contains(id)),
            "difficulty 2 only: {raw}"
        );
        assert_eq!(draw["action_id"], 2);
        // Exactly the seed's shape, nothing more.
        let expected = format!(
            r#"{{"quiz_id":[{},{},{}],"action_id":2}}"#,
            quiz_ids[0], quiz_ids[1], quiz_ids[2]
        );
        assert_eq!(raw, expected);
        assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    }
}

async fn fewer_than_three_quizzes_are_all_drawn(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([4], 2))).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":4}"#).await;
    let draw = next_json(&mut display).await;
    let mut ids: Vec<i64> = serde_json::from_value(draw["quiz_id"].clone()).unwrap();
    ids.sort();
    assert_eq!(ids, vec![41, 42]);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

async fn the_display_must_connect_first(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let refused = connect(&app.url(1, &format!("/ws/difficulty/android/{UUID}"))).await;
    let WsError::Http(response) = refused.expect_err("refused") else {
        panic!("expected an HTTP refusal")
    };
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["code"], "display_offline");

    let _display = app.display(UUID).await;
    let _controller = app.controller(UUID).await;
}

async fn a_controller_right_after_the_display_101_is_accepted(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    for _ in 0..200 {
        let uuid = uuid::Uuid::new_v4().to_string();
        let _display = app.display(&uuid).await;
        // No pause: the display's client has its 101, so the controller must be let in.
        let _controller = app.controller(&uuid).await;
    }
}

async fn uuids_are_case_insensitive_and_anything_else_is_refused(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(&UUID.to_uppercase()).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    next_json(&mut display).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    for bad in [
        "not-a-uuid",
        "de358130e94a56928b09d27007ad1944",
        "de358130-e94a-5692-8b09-d27007ad194z",
        "1",
    ] {
        for (node, role) in [(0, "unity"), (1, "android")] {
            let refused = connect(&app.url(node, &format!("/ws/difficulty/{role}/{bad}"))).await;
            let WsError::Http(response) = refused.expect_err("refused") else {
                panic!("expected HTTP")
            };
            assert_eq!(response.status(), 400, "{role} {bad}");
            let body: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["code"], "invalid_uuid", "{role} {bad}");
        }
    }
}

async fn a_newer_display_replaces_the_older_one(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([1], 3))).await;
    // On a cluster the older display shares the controller's node and the newer one is
    // elsewhere: the replaced display must stop counting on its own node too.
    let mut old = app.display_on(1, UUID).await;
    let mut controller = app.controller(UUID).await;
    let mut new = app.display_on(0, UUID).await;

    let frame = next_close(&mut old).await;
    assert_eq!(u16::from(frame.code), 4001);
    assert_eq!(frame.reason.as_str(), "replaced");
    drop(old); // the old socket's clean-up must not unregister the new display

    for _ in 0..3 {
        send_text(&mut controller, r#"{"difficulty":1}"#).await;
        assert_eq!(next_json(&mut new).await["action_id"], 1);
        assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    }
    // A controller connecting now still finds the new display.
    let _second_controller = app.controller(UUID).await;
}

async fn a_newer_controller_replaces_the_older_one(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([1], 3))).await;
    let mut display = app.display(UUID).await;
    // On a cluster each controller replaces one on the other node.
    let mut old = app.controller_on(0, UUID).await;
    let mut new = app.controller_on(1, UUID).await;

    let frame = next_close(&mut old).await;
    assert_eq!(u16::from(frame.code), 4001);
    assert_eq!(frame.reason.as_str(), "replaced");
    drop(old);

    send_text(&mut new, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut display).await["action_id"], 1);
    assert_eq!(next_text(&mut new).await, r#"{"status":"received"}"#);

    // The old controller's clean-up left the new one registered: a third replaces it.
    let _third = app.controller_on(0, UUID).await;
    let frame = next_close(&mut new).await;
    assert_eq!(u16::from(frame.code), 4001);
}

async fn a_controller_outlives_its_display_and_works_again_after_reconnect(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([1], 3))).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;

    display.close(None).await.unwrap();
    // The close handshake completes only after the server has let go of the display.
    while let Some(Ok(_)) = futures_util::StreamExt::next(&mut display).await {}

    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    let reply = next_json(&mut controller).await;
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["code"], "display_offline");

    let mut display = app.display(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut display).await["action_id"], 1);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

async fn a_hundred_pairs_exchange_without_loss_duplication_or_crossing(broker: BrokerKind) {
    const PAIRS: i32 = 100;
    const MESSAGES: usize = 20;
    // Pair p asks for difficulty p, then once for difficulty 1000 + p as an end marker;
    // every id in the catalogue names its difficulty, so a crossed message shows.
    let difficulties = (1..=PAIRS).chain((1..=PAIRS).map(|p| 1000 + p));
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog(difficulties, 4))).await;

    let mut pairs = Vec::new();
    for p in 1..=PAIRS {
        let uuid = uuid::Uuid::new_v4().to_string();
        // On a cluster, half the pairs one way round and half the other.
        let node = p as usize;
        let display = app.display_on(node, &uuid).await;
        let controller = app.controller_on(node + 1, &uuid).await;
        pairs.push((p, display, controller));
    }
    let tasks = pairs.into_iter().map(|(p, mut display, mut controller)| {
        tokio::spawn(async move {
            // Send everything first so that the server sees all pairs at once.
            for _ in 0..MESSAGES {
                controller
                    .feed(Message::text(format!(r#"{{"difficulty":{p}}}"#)))
                    .await
                    .unwrap();
            }
            controller
                .feed(Message::text(format!(r#"{{"difficulty":{}}}"#, 1000 + p)))
                .await
                .unwrap();
            controller.flush().await.unwrap();
            for i in 0..MESSAGES {
                let draw = next_json(&mut display).await;
                assert_eq!(draw["action_id"], p, "pair {p} message {i}: {draw}");
                assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
            }
            // The marker comes next: nothing was duplicated or left over before it.
            assert_eq!(next_json(&mut display).await["action_id"], 1000 + p, "pair {p}");
            assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
        })
    });
    for task in tasks.collect::<Vec<_>>() {
        task.await.unwrap();
    }
}

async fn health_check_answers_200(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    for node in 0..app.node_count() {
        let mut stream = tokio::net::TcpStream::connect(app.addr(node)).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}
