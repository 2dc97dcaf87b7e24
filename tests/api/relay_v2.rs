//! Protocol v2 between the two sides of a pair: presence, relay both ways (JSON and
//! binary), relay to an absent peer, relay at game-input rates, and mixed versions.
//! On Redis the display is on one node and the controller on the other.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::v2_client::{self, CONTROLLER, DISPLAY, expect};

const UUID: &str = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

on_both_brokers!(
    each_side_hears_the_other_come_be_replaced_and_go,
    relay_data_goes_both_ways_as_json_and_binary,
    relay_to_an_absent_peer_is_refused_with_its_id,
    fifty_pairs_relaying_at_sixty_a_second_each_way_lose_nothing_and_keep_order,
    a_v1_display_and_a_v2_controller_each_read_their_own_version,
    a_v2_display_and_a_v1_controller_each_read_their_own_version,
);

fn last(app: &Deployment) -> usize {
    app.node_count() - 1
}

fn peer(role: &str, connected: bool) -> Value {
    json!({"type":"peer","role":role,"connected":connected})
}

async fn closed(mut ws: Ws) {
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
}

async fn each_side_hears_the_other_come_be_replaced_and_go(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    let (first, _) = v2_client::controller(&app, last(&app), UUID).await;
    assert_eq!(expect(&mut display, DISPLAY, "peer").await, peer("controller", true));

    // A newer controller (on a cluster, on the display's node) replaces the first.
    let (mut controller, welcome) = v2_client::controller(&app, 0, UUID).await;
    assert_eq!(welcome["peer"], true);
    assert_eq!(expect(&mut display, DISPLAY, "peer").await, peer("controller", true));
    let mut first = first;
    assert_eq!(u16::from(next_close(&mut first).await.code), 4001);

    closed(display).await;
    assert_eq!(
        expect(&mut controller, CONTROLLER, "peer").await,
        peer("display", false)
    );
    let (mut display, welcome) = v2_client::display(&app, last(&app), UUID).await;
    assert_eq!(welcome["peer"], true, "the controller stayed");
    assert_eq!(expect(&mut controller, CONTROLLER, "peer").await, peer("display", true));

    closed(controller).await;
    assert_eq!(expect(&mut display, DISPLAY, "peer").await, peer("controller", false));
    // Nothing more: the replaced controller's end was never announced.
    send_text(&mut display, r#"{"type":"ping","id":"end"}"#).await;
    assert_eq!(expect(&mut display, DISPLAY, "pong").await["id"], "end");
}

async fn relay_data_goes_both_ways_as_json_and_binary(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    expect(&mut display, DISPLAY, "peer").await;

    for data in [
        json!({"stick":[0.25,-1],"a":true}),
        json!("text"),
        json!(7),
        json!(null),
        json!([]),
    ] {
        send_text(&mut controller, &json!({"type":"relay","data":data,"id":1}).to_string()).await;
        assert_eq!(
            expect(&mut display, DISPLAY, "relay").await,
            json!({"type":"relay","data":data})
        );
        send_text(&mut display, &json!({"type":"relay","data":data}).to_string()).await;
        assert_eq!(
            expect(&mut controller, CONTROLLER, "relay").await,
            json!({"type":"relay","data":data})
        );
    }
    // The data is passed on as the client wrote it.
    send_text(&mut controller, r#"{"type":"relay","data":{"b" : 1,  "a":[ 2 ]}}"#).await;
    assert_eq!(
        next_text(&mut display).await,
        r#"{"type":"relay","data":{"b" : 1,  "a":[ 2 ]}}"#
    );

    let bytes = vec![0u8, 159, 146, 150, 10];
    controller.send(Message::binary(bytes.clone())).await.unwrap();
    assert_eq!(next(&mut display).await, Message::binary(bytes.clone()));
    display.send(Message::binary(bytes.clone())).await.unwrap();
    assert_eq!(next(&mut controller).await, Message::binary(bytes));
}

async fn relay_to_an_absent_peer_is_refused_with_its_id(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    send_text(&mut display, r#"{"type":"relay","data":{"score":1},"id":"r1"}"#).await;
    let error = expect(&mut display, DISPLAY, "error").await;
    assert_eq!(
        (&error["code"], &error["id"]),
        (&json!("controller_offline"), &json!("r1"))
    );

    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    closed(display).await;
    expect(&mut controller, CONTROLLER, "peer").await;
    send_text(&mut controller, r#"{"type":"relay","data":[1],"id":9}"#).await;
    let error = expect(&mut controller, CONTROLLER, "error").await;
    assert_eq!((&error["code"], &error["id"]), (&json!("display_offline"), &json!(9)));
    controller.send(Message::binary(vec![1, 2])).await.unwrap();
    let error = expect(&mut controller, CONTROLLER, "error").await;
    assert_eq!(error["code"], "display_offline");
    assert!(error.get("id").is_none());
}

async fn fifty_pairs_relaying_at_sixty_a_second_each_way_lose_nothing_and_keep_order(broker: BrokerKind) {
    const PAIRS: usize = 50;
    const EACH_WAY: u64 = 120;
    let app = Deployment::start(broker).await;
    let mut runs = Vec::new();
    for i in 0..PAIRS {
        let uuid = uuid::Uuid::new_v4().to_string();
        let (mut display, _) = v2_client::display(&app, i % 2, &uuid).await;
        let (controller, _) = v2_client::controller(&app, (i + 1) % app.node_count(), &uuid).await;
        expect(&mut display, DISPLAY, "peer").await;
        runs.push(tokio::spawn(async move {
            // Both directions at once: the display's reads are the controller's sends.
            let (display_writer, display_reader) = display.split();
            let (controller_writer, controller_reader) = controller.split();
            let up = pump_split(controller_writer, display_reader, EACH_WAY);
            let down = pump_split(display_writer, controller_reader, EACH_WAY);
            let (up, down) = tokio::join!(up, down);
            (up, down)
        }));
    }
    let expected: Vec<u64> = (1..=EACH_WAY).collect();
    for run in runs {
        let (up, down) = run.await.unwrap();
        assert_eq!(up, expected, "controller to display: every message, in order");
        assert_eq!(down, expected, "display to controller: every message, in order");
    }
}

type Writer = futures_util::stream::SplitSink<Ws, Message>;
type Reader = futures_util::stream::SplitStream<Ws>;

/// Relays `count` numbered messages over one direction of two split connections, at 60
/// messages a second, while reading them on the other side; returns the numbers read.
async fn pump_split(mut from: Writer, mut to: Reader, count: u64) -> Vec<u64> {
    let sender = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / 60));
        for n in 1..=count {
            ticks.tick().await;
            let text = json!({"type":"relay","data":{"n":n}}).to_string();
            from.send(Message::text(text)).await.unwrap();
        }
        from
    });
    let mut heard = Vec::with_capacity(count as usize);
    while heard.len() < count as usize {
        let message = tokio::time::timeout(PATIENCE, to.next())
            .await
            .expect("relayed in time")
            .expect("open")
            .expect("a frame");
        let Message::Text(text) = message else { continue };
        let event: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["type"], "relay", "{event}");
        heard.push(event["data"]["n"].as_u64().unwrap());
    }
    drop(sender.await.unwrap());
    heard
}

async fn a_v1_display_and_a_v2_controller_each_read_their_own_version(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([3], 4))).await;
    let mut display = app.display(UUID).await;
    let (mut controller, welcome) = v2_client::controller(&app, last(&app), UUID).await;
    assert_eq!(welcome["peer"], true);

    send_text(&mut controller, r#"{"type":"difficulty","difficulty":3,"id":1}"#).await;
    let draw = next_text(&mut display).await;
    let value: Value = serde_json::from_str(&draw).unwrap();
    assert_eq!(
        draw,
        format!(r#"{{"quiz_id":{},"action_id":3}}"#, value["quiz_id"]),
        "the seed's draw"
    );
    assert_eq!(expect(&mut controller, CONTROLLER, "ack").await["status"], "received");

    send_text(&mut controller, r#"{"type":"relay","data":{"x":1}}"#).await;
    assert_eq!(next_text(&mut display).await, r#"{"x":1}"#, "the JSON text of data");
    for (text, data) in [(r#"{"score":9}"#, json!({"score":9})), ("not json", json!("not json"))] {
        send_text(&mut display, text).await;
        assert_eq!(expect(&mut controller, CONTROLLER, "relay").await["data"], data);
    }
    display.send(Message::binary(vec![7, 7])).await.unwrap();
    assert_eq!(next(&mut controller).await, Message::binary(vec![7, 7]));

    // The controller going and coming back is nothing a seed display hears of.
    closed(controller).await;
    let (mut controller, _) = v2_client::controller(&app, last(&app), UUID).await;
    send_text(&mut controller, r#"{"type":"difficulty","difficulty":3}"#).await;
    let after: Value = serde_json::from_str(&next_text(&mut display).await).unwrap();
    assert!(after["quiz_id"].is_array() && after.get("type").is_none(), "{after}");
}

async fn a_v2_display_and_a_v1_controller_each_read_their_own_version(broker: BrokerKind) {
    let app = Deployment::with(broker, Options::new().catalog(tagged_catalog([2], 3))).await;
    let (mut display, _) = v2_client::display(&app, 0, UUID).await;
    let mut controller = app.controller(UUID).await;
    assert_eq!(expect(&mut display, DISPLAY, "peer").await, peer("controller", true));

    send_text(&mut controller, r#"{"difficulty":2}"#).await;
    let draw = expect(&mut display, DISPLAY, "draw").await;
    assert_eq!((&draw["difficulty"], &draw["action_id"]), (&json!(2), &json!(2)));
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    send_text(&mut display, r#"{"type":"relay","data":{"level":"up"}}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"level":"up"}"#);
    // A seed controller hears nothing of its display but draws' answers and relays.
    closed(display).await;
    let (_display, _) = v2_client::display(&app, 0, UUID).await;
    send_text(&mut controller, r#"{"difficulty":2}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}
