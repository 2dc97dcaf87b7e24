//! The broker matrix's Redis variants really span nodes: the display's node and the
//! controller's node are two `Application`s, each counting only its own client, the pair
//! works between them, and the cluster leaves no key behind in the shared Redis.

use serde_json::json;

use crate::deployment::{BrokerKind, Deployment, count_keys};
use crate::helpers::*;
use crate::on_both_brokers;

const UUID: &str = "0b7e4c1d-2f3a-4b5c-8d6e-9f0a1b2c3d4e";

on_both_brokers!(the_helpers_put_the_display_and_the_controller_on_the_nodes_they_name);

async fn the_helpers_put_the_display_and_the_controller_on_the_nodes_they_name(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let nodes = match broker {
        BrokerKind::InProcess => 1,
        BrokerKind::Redis => 2,
    };
    assert_eq!(app.node_count(), nodes);
    let mut display = app.display(UUID).await;
    let mut controller = app.controller(UUID).await;

    // Each node reports what its own clients hold: the display on node 0, the controller
    // on the last node (on a cluster, two different servers).
    let last = app.node_count() - 1;
    for node in 0..app.node_count() {
        let stats = app.http(node, "GET", "/api/stats").await.json();
        let mine = (usize::from(node == 0), usize::from(node == last));
        assert_eq!(
            (&stats["displays"], &stats["controllers"], &stats["connections"]),
            (&json!(mine.0), &json!(mine.1), &json!(mine.0 + mine.1)),
            "node {node}: {stats}"
        );
    }

    // The pair works between them, both ways.
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    send_text(&mut display, r#"{"score":7}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"score":7}"#);

    let prefix = app.redis_prefix().map(str::to_owned);
    drop((display, controller, app));
    if let Some(prefix) = prefix {
        assert_eq!(count_keys(&prefix), 0, "keys left under {prefix}");
    }
}
