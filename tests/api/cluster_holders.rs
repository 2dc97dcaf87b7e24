//! Deliveries across nodes go to the node last found holding the display, without
//! asking Redis each time; these tests check that a node that guessed wrong (the
//! display replaced on another node, or its node killed) still reaches the display that
//! holds the address now, with the receipts a client expects, and that held draws are
//! handed over once.

use crate::cluster::Cluster;
use crate::helpers::*;

const UUID: &str = "5e1f0c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b";

/// A v1 draw from `controller` reaches `display`, and the controller is told so.
async fn draw_arrives(controller: &mut Ws, display: &mut Ws) {
    send_text(controller, r#"{"difficulty":1}"#).await;
    let draw = next_json(display).await;
    assert_eq!(draw["quiz_id"].as_array().map(Vec::len), Some(3), "{draw}");
    assert_eq!(next_text(controller).await, r#"{"status":"received"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn draws_reach_a_display_that_replaced_the_remembered_one_on_a_third_node() {
    let cluster = Cluster::start(3, &[]).await;
    let mut old = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    // The controller's node now knows the display is on node 0.
    draw_arrives(&mut controller, &mut old).await;

    let mut new = cluster.display(2, UUID).await;
    assert_eq!(u16::from(next_close(&mut old).await.code), 4001);
    for _ in 0..3 {
        draw_arrives(&mut controller, &mut new).await;
    }
    // And back on the first node, replacing the one it was told about last.
    let mut third = cluster.display(0, UUID).await;
    assert_eq!(u16::from(next_close(&mut new).await.code), 4001);
    draw_arrives(&mut controller, &mut third).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn draws_reach_the_display_reconnected_elsewhere_after_its_node_was_killed() {
    let mut cluster = Cluster::start(3, &["--heartbeat-interval", "300ms"]).await;
    let mut display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    draw_arrives(&mut controller, &mut display).await;

    cluster.take(0).kill().await;
    let mut back = cluster.display(2, UUID).await;
    for _ in 0..3 {
        draw_arrives(&mut controller, &mut back).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draw_held_after_the_remembered_display_left_is_handed_over_once() {
    let catalog = Some(tagged_catalog([1, 2, 3], 3));
    let cluster = Cluster::start_with("redis://127.0.0.1:6379", catalog, 3, &["--hold-for", "20s"]).await;
    let mut display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut display).await["action_id"], 1);
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);

    display.close(None).await.unwrap();
    let _ = next(&mut display).await;
    send_text(&mut controller, r#"{"difficulty":2}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"queued"}"#);

    let mut back = cluster.display(2, UUID).await;
    assert_eq!(next_json(&mut back).await["action_id"], 2, "the held draw");
    send_text(&mut controller, r#"{"difficulty":3}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert_eq!(
        next_json(&mut back).await["action_id"],
        3,
        "the next draw, with no second copy of the held one before it"
    );
}
