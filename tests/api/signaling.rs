//! WebRTC signaling (`/ws/signal/{room}`): peers, and messages relayed by id with the
//! sender's real id. The browser test in tests/browser opens a real data channel.

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment};
use crate::helpers::*;
use crate::on_both_brokers;

on_both_brokers!(
    peers_learn_who_is_in_the_room,
    offers_answers_and_candidates_reach_their_target_with_the_real_sender_id,
    unknown_departed_and_other_room_targets_are_unknown_peers,
    malformed_signals_are_answered_and_the_peer_stays,
    signaling_rooms_are_apart_from_chat_rooms_and_check_their_names,
);

/// Joins signaling room `room` on node `node`; returns the socket, its id and welcome.
async fn peer(app: &Deployment, node: usize, room: &str) -> (Ws, String, Value) {
    let mut ws = connect(&app.url(node, &format!("/ws/signal/{room}")))
        .await
        .expect("joins");
    let welcome = next_of_type(&mut ws, "welcome").await;
    let id = welcome["id"].as_str().unwrap().to_owned();
    (ws, id, welcome)
}

async fn peers_learn_who_is_in_the_room(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut alice, alice_id, welcome) = peer(&app, 0, "call").await;
    assert_eq!(welcome, json!({"type":"welcome","id":alice_id,"peers":[]}));
    let (mut bob, bob_id, welcome) = peer(&app, 1, "call").await;
    assert_eq!(welcome["peers"], json!([alice_id]));
    assert_eq!(next_json(&mut alice).await, json!({"type":"peer_joined","id":bob_id}));
    let (_carol, carol_id, welcome) = peer(&app, 2, "call").await;
    assert_eq!(welcome["peers"], json!([alice_id, bob_id]), "in join order");
    for ws in [&mut alice, &mut bob] {
        assert_eq!(next_json(ws).await, json!({"type":"peer_joined","id":carol_id}));
    }
    bob.close(None).await.unwrap();
    assert_eq!(next_json(&mut alice).await, json!({"type":"peer_left","id":bob_id}));
}

async fn offers_answers_and_candidates_reach_their_target_with_the_real_sender_id(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut alice, alice_id, _) = peer(&app, 0, "call").await;
    let (mut bob, bob_id, _) = peer(&app, 1, "call").await;
    let (mut carol, _, _) = peer(&app, 2, "call").await;
    let _ = next_of_type(&mut alice, "peer_joined").await;
    let _ = next_of_type(&mut alice, "peer_joined").await;
    let _ = next_of_type(&mut bob, "peer_joined").await;

    let offer = json!({"type":"offer","target_id":bob_id,"sdp":"v=0 offer","id":"forged","candidate":[]});
    send_text(&mut alice, &offer.to_string()).await;
    let received = next_json(&mut bob).await;
    assert_eq!(
        received,
        json!({"type":"offer","target_id":bob_id,"sdp":"v=0 offer","id":alice_id,"candidate":[]})
    );

    let answer = json!({"type":"answer","target_id":alice_id,"sdp":"v=0 answer"});
    send_text(&mut bob, &answer.to_string()).await;
    assert_eq!(next_json(&mut alice).await["id"], bob_id.as_str());

    let candidate = json!({"type":"candidate","target_id":alice_id,"candidate":["candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","0","0"]});
    send_text(&mut bob, &candidate.to_string()).await;
    let received = next_json(&mut alice).await;
    assert_eq!(
        (received["type"].clone(), received["candidate"].clone()),
        (json!("candidate"), candidate["candidate"].clone())
    );

    // Carol, in the room but not addressed, received nothing but the join notices.
    send_text(
        &mut carol,
        &json!({"type":"offer","target_id":"not-a-peer"}).to_string(),
    )
    .await;
    assert_eq!(
        next_json(&mut carol).await["code"],
        "unknown_peer",
        "carol's next message is her own error"
    );
}

async fn unknown_departed_and_other_room_targets_are_unknown_peers(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut alice, _, _) = peer(&app, 0, "one").await;
    let (mut bob, bob_id, _) = peer(&app, 1, "one").await;
    let (_elsewhere, elsewhere_id, _) = peer(&app, 2, "two").await;
    let _ = next_of_type(&mut alice, "peer_joined").await;

    let stranger = "5f0c1a4e-3b2d-4c1e-9f8a-7b6c5d4e3f2a";
    for target in [stranger, "nobody", elsewhere_id.as_str()] {
        send_text(
            &mut alice,
            &json!({"type":"offer","target_id":target,"sdp":"x"}).to_string(),
        )
        .await;
        let error = next_json(&mut alice).await;
        assert_eq!(error["type"], "error");
        assert_eq!(
            (error["code"].as_str(), error["target_id"].as_str()),
            (Some("unknown_peer"), Some(target))
        );
    }
    bob.close(None).await.unwrap();
    let _ = next_of_type(&mut alice, "peer_left").await;
    send_text(
        &mut alice,
        &json!({"type":"answer","target_id":bob_id,"sdp":"x"}).to_string(),
    )
    .await;
    assert_eq!(next_json(&mut alice).await["code"], "unknown_peer");
}

async fn malformed_signals_are_answered_and_the_peer_stays(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut alice, _, _) = peer(&app, 0, "call").await;
    let (mut bob, bob_id, _) = peer(&app, 1, "call").await;
    let _ = next_of_type(&mut alice, "peer_joined").await;
    for bad in [
        "not json".to_owned(),
        "[]".to_owned(),
        json!({"type":"bye","target_id":bob_id}).to_string(),
        json!({"type":"offer"}).to_string(),
        json!({"type":"offer","target_id":null}).to_string(),
    ] {
        send_text(&mut alice, &bad).await;
        let error = next_of_type(&mut alice, "error").await;
        assert_eq!(error["code"], "invalid_message", "{bad}: {error}");
    }
    alice.send(Message::binary(b"{}".to_vec())).await.unwrap();
    assert_eq!(next_of_type(&mut alice, "error").await["code"], "unsupported_binary");
    // Bob received none of it; a good message still goes through.
    send_text(
        &mut alice,
        &json!({"type":"offer","target_id":bob_id,"sdp":"ok"}).to_string(),
    )
    .await;
    assert_eq!(next_json(&mut bob).await["sdp"], "ok");
}

async fn signaling_rooms_are_apart_from_chat_rooms_and_check_their_names(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let _chat = connect(&app.url(0, "/ws/rooms/same")).await.unwrap();
    let (_ws, _, welcome) = peer(&app, 1, "same").await;
    assert_eq!(welcome["peers"], json!([]), "a chat member is not a signaling peer");
    for (node, bad) in ["/ws/signal/a%20b", "/ws/signal/%2E%2E%2Fx"].into_iter().enumerate() {
        let (status, body) = refusal(&app.url(node, bad)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_room")), "{bad}");
    }
}
