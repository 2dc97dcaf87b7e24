//! Display → controller relay: what a display sends reaches its controller unchanged.

use futures_util::SinkExt;
use pairlink::session::Limits;
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;

const UUID: &str = "3e1f7a52-0c4b-4d8e-9a6f-2b5c7d9e1f30";

on_both_brokers!(
    what_the_display_sends_reaches_its_controller_unchanged,
    a_display_without_a_controller_is_told_and_keeps_its_connection,
    an_oversized_display_message_closes_the_display_with_1009,
);

async fn what_the_display_sends_reaches_its_controller_unchanged(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;

    for text in [
        r#"{"result":"correct","score":120}"#,
        "plain text, not JSON",
        "  spaced  ",
    ] {
        send_text(&mut display, text).await;
        assert_eq!(next_text(&mut controller).await, text);
    }
    display.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(next(&mut controller).await, Message::binary(vec![1u8, 2, 3]));

    // Both directions at once: the controller's own answers and the relayed messages
    // each arrive, in their own order.
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    send_text(&mut display, "after the draw").await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    let mut got = vec![next_text(&mut controller).await, next_text(&mut controller).await];
    got.sort();
    assert_eq!(got, ["after the draw", r#"{"status":"received"}"#]);
}

async fn a_display_without_a_controller_is_told_and_keeps_its_connection(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut display = app.display(UUID).await;
    send_text(&mut display, "anyone there?").await;
    let error = next_json(&mut display).await;
    assert_eq!(
        (error["status"].as_str(), error["code"].as_str()),
        (Some("error"), Some("controller_offline"))
    );
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));

    // A controller that left: the same answer.
    let mut controller = app.controller(UUID).await;
    controller.close(None).await.unwrap();
    let _ = next(&mut controller).await;
    send_text(&mut display, "still there?").await;
    assert_eq!(next_json(&mut display).await["code"], "controller_offline");

    // The display's connection still serves draws.
    let mut controller = app.controller(UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
}

async fn an_oversized_display_message_closes_the_display_with_1009(broker: BrokerKind) {
    let limits = Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;
    send_text(&mut display, &"x".repeat(2048)).await;
    assert_eq!(u16::from(next_close(&mut display).await.code), 1009);
    // Nothing of it reached the controller, whose next message is its own answer.
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "display_offline");
}
