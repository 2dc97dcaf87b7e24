//! Room recovery (`?since=`): a member that lost its connection rejoins and gets exactly
//! what it missed, at the edge of the history too, while messages flow, and within the
//! room's retention only.

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::rooms::{join, messages, rooms_app, seqs};

on_both_brokers!(
    a_member_that_rejoins_with_since_gets_exactly_what_it_missed,
    recovery_at_the_edge_of_the_history,
    joining_with_since_while_messages_flow_loses_and_repeats_nothing,
    an_empty_room_keeps_its_history_for_the_retention_period_only,
);

async fn a_member_that_rejoins_with_since_gets_exactly_what_it_missed(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut talker, _) = join(&app, 0, "recover", "").await;
    let (mut listener, _) = join(&app, 1, "recover", "").await;
    for i in 1..=5 {
        send_text(&mut talker, &i.to_string()).await;
    }
    let seen = messages(&mut listener, 3).await;
    assert_eq!(seqs(&seen), [1, 2, 3]);
    drop(listener); // the connection drops with messages 4 and 5 unread
    for i in 6..=8 {
        send_text(&mut talker, &i.to_string()).await;
    }
    messages(&mut talker, 8).await;

    // On a cluster it rejoins on another node, as a load balancer may send it.
    let (mut listener, welcome) = join(&app, 2, "recover", "?since=3").await;
    assert_eq!(
        (welcome["seq"].as_u64(), welcome["recovered"].as_bool()),
        (Some(8), Some(true))
    );
    send_text(&mut talker, "9").await;
    let replayed_then_live = messages(&mut listener, 6).await;
    assert_eq!(seqs(&replayed_then_live), [4, 5, 6, 7, 8, 9]);
    assert_eq!(replayed_then_live[0]["data"], 4);
}

async fn recovery_at_the_edge_of_the_history(broker: BrokerKind) {
    let app = rooms_app(broker, 5, std::time::Duration::from_secs(60)).await;
    // On a cluster, each member joins on the other node than the one before.
    let (mut talker, _) = join(&app, 0, "edge", "").await;
    for i in 1..=10 {
        send_text(&mut talker, &i.to_string()).await;
    }
    messages(&mut talker, 10).await;
    // Messages 6..=10 are kept: since=5 misses nothing that is gone.
    let (mut ws, welcome) = join(&app, 1, "edge", "?since=5").await;
    assert_eq!(welcome["recovered"], true);
    assert_eq!(seqs(&messages(&mut ws, 5).await), [6, 7, 8, 9, 10]);
    // since=4 missed message 5, which is gone: told so, and given what is kept.
    let (mut ws, welcome) = join(&app, 2, "edge", "?since=4").await;
    assert_eq!(welcome["recovered"], false);
    assert_eq!(seqs(&messages(&mut ws, 5).await), [6, 7, 8, 9, 10]);
    // Up to date: nothing to replay; the next message is live.
    let (mut ws, welcome) = join(&app, 3, "edge", "?since=10").await;
    assert_eq!(
        (welcome["recovered"].as_bool(), welcome["seq"].as_u64()),
        (Some(true), Some(10))
    );
    send_text(&mut talker, "11").await;
    assert_eq!(seqs(&messages(&mut ws, 1).await), [11]);
    // A seq the room never reached (it was forgotten and started again): not recovered.
    let (_ws, welcome) = join(&app, 4, "edge", "?since=99").await;
    assert_eq!(welcome["recovered"], false);
    // Without since, no replay and no "recovered".
    let (_ws, welcome) = join(&app, 5, "edge", "").await;
    assert!(welcome.get("recovered").is_none(), "{welcome}");
}

async fn joining_with_since_while_messages_flow_loses_and_repeats_nothing(broker: BrokerKind) {
    let app = rooms_app(broker, 10_000, std::time::Duration::from_secs(60)).await;
    let (mut talker, _) = join(&app, 0, "flow", "").await;
    let sending = tokio::spawn(async move {
        for i in 1..=400 {
            talker.send(Message::text(i.to_string())).await.unwrap();
        }
        talker
    });
    // Joins at some point during the flow, asking for everything from the start.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (mut late, welcome) = join(&app, 1, "flow", "?since=0").await;
    assert_eq!(welcome["recovered"], true);
    let _talker = sending.await.unwrap();
    let received = messages(&mut late, 400).await;
    assert_eq!(seqs(&received), (1..=400).collect::<Vec<_>>());
}

async fn an_empty_room_keeps_its_history_for_the_retention_period_only(broker: BrokerKind) {
    let kept = Deployment::start(broker).await; // default retention: minutes
    let forgotten = rooms_app(broker, 100, std::time::Duration::ZERO).await;
    for app in [&kept, &forgotten] {
        let (mut ws, _) = join(app, 0, "r", "").await;
        send_text(&mut ws, "1").await;
        messages(&mut ws, 1).await;
        ws.close(None).await.unwrap();
        let _ = next(&mut ws).await; // the server's close reply: it has let go of the member
    }
    // On a cluster, rejoining on the other node.
    let (_ws, welcome) = join(&kept, 1, "r", "?since=0").await;
    assert_eq!(
        (welcome["seq"].as_u64(), welcome["recovered"].as_bool()),
        (Some(1), Some(true))
    );
    let (_ws, welcome) = join(&forgotten, 1, "r", "?since=0").await;
    assert_eq!(welcome["seq"], 0, "a room with no retention starts again");
}
