//! Rooms (`/ws/rooms/{room}`): welcome, join and leave notices, sequenced messages that
//! every member sees in one order without gaps, bad input and slow members. Recovery with
//! `?since=` is in `rooms_recovery.rs`.

use futures_util::SinkExt;
use pairlink::backplane::RoomPolicy;
use pairlink::session::Limits;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;

on_both_brokers!(
    members_are_welcomed_announced_and_see_each_message_with_its_seq,
    rooms_are_separate,
    concurrent_senders_give_every_member_the_same_gapless_sequence,
    members_leaving_mid_broadcast_do_not_disturb_the_rest,
    bad_urls_are_refused_before_the_upgrade,
    bad_messages_get_an_error_and_reach_no_one,
    a_member_that_stops_reading_is_closed_and_the_others_go_on,
    a_room_of_a_hundred_and_fifty_members_hears_every_message_in_order,
);

/// A deployment whose rooms keep `history` messages for `retention`.
pub async fn rooms_app(broker: BrokerKind, history: usize, retention: std::time::Duration) -> Deployment {
    let options = Options::new().config(move |config| {
        config.rooms = RoomPolicy {
            history,
            retention,
            ..RoomPolicy::default()
        }
    });
    Deployment::with(broker, options).await
}

/// Joins `room` on node `node` with the query string `query` (e.g. `?name=Ana`); returns
/// the socket and its welcome.
pub async fn join(app: &Deployment, node: usize, room: &str, query: &str) -> (Ws, Value) {
    let mut ws = connect(&app.url(node, &format!("/ws/rooms/{room}{query}")))
        .await
        .expect("joins the room");
    let welcome = next_of_type(&mut ws, "welcome").await;
    (ws, welcome)
}

/// Reads `count` room messages and returns them.
pub async fn messages(ws: &mut Ws, count: usize) -> Vec<Value> {
    let mut received = Vec::with_capacity(count);
    while received.len() < count {
        let event = next_json(ws).await;
        if event["type"] == "message" {
            received.push(event);
        }
    }
    received
}

pub fn seqs(messages: &[Value]) -> Vec<u64> {
    messages.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

async fn members_are_welcomed_announced_and_see_each_message_with_its_seq(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut ana, welcome) = join(&app, 0, "lobby", "?name=Ana").await;
    let ana_id = welcome["id"].as_str().unwrap().to_owned();
    assert_eq!(
        welcome,
        json!({"type":"welcome","id":ana_id,"seq":0,"members":[{"id":ana_id,"name":"Ana"}],"count":1,"notices":true})
    );

    let (mut anon, welcome) = join(&app, 1, "lobby", "").await;
    let anon_id = welcome["id"].as_str().unwrap().to_owned();
    assert_ne!(anon_id, ana_id);
    assert_eq!(
        welcome["members"],
        json!([{"id":ana_id,"name":"Ana"},{"id":anon_id,"name":null}]),
        "members in join order, the joiner included"
    );
    assert_eq!(
        next_json(&mut ana).await,
        json!({"type":"join","id":anon_id,"name":null})
    );

    // Any JSON value is a message; each member gets it wrapped, the sender included.
    let values = [
        json!({"text":"hi","n":[1,2]}),
        json!("plain string"),
        json!(42),
        json!(null),
        json!([true]),
    ];
    for value in &values {
        send_text(&mut ana, &value.to_string()).await;
    }
    for ws in [&mut ana, &mut anon] {
        let received = messages(ws, values.len()).await;
        for (i, (message, value)) in received.iter().zip(&values).enumerate() {
            assert_eq!(
                message,
                &json!({"type":"message","room":"lobby","seq":i + 1,"from":ana_id,"name":"Ana","data":value})
            );
        }
    }

    anon.close(None).await.unwrap();
    assert_eq!(next_json(&mut ana).await, json!({"type":"leave","id":anon_id}));
}

async fn rooms_are_separate(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut red, _) = join(&app, 0, "red", "").await;
    let (mut blue, welcome) = join(&app, 1, "blue", "").await;
    assert_eq!(welcome["members"].as_array().unwrap().len(), 1);
    send_text(&mut red, "\"to red\"").await;
    send_text(&mut blue, "\"to blue\"").await;
    assert_eq!(messages(&mut red, 1).await[0]["data"], "to red");
    let blue_message = messages(&mut blue, 1).await.remove(0);
    assert_eq!(
        (blue_message["data"].clone(), blue_message["seq"].clone()),
        (json!("to blue"), json!(1))
    );
}

async fn concurrent_senders_give_every_member_the_same_gapless_sequence(broker: BrokerKind) {
    const MEMBERS: usize = 8;
    // 120 messages per member: fewer than a member's queue holds (165), so a member
    // whose task is starved on a loaded machine is not closed as a slow consumer.
    const EACH: usize = 15;
    let app = Deployment::start(broker).await;
    let mut members = Vec::new();
    for m in 0..MEMBERS {
        members.push(join(&app, m, "busy", "").await.0);
    }
    // Everyone sends and reads at once.
    let tasks = members.into_iter().enumerate().map(|(m, mut ws)| {
        tokio::spawn(async move {
            for i in 0..EACH {
                ws.send(Message::text(json!({"m":m,"i":i}).to_string())).await.unwrap();
            }
            messages(&mut ws, MEMBERS * EACH).await
        })
    });
    let seen: Vec<Vec<Value>> = futures_util::future::try_join_all(tasks).await.unwrap();
    let expected: Vec<u64> = (1..=(MEMBERS * EACH) as u64).collect();
    for received in &seen {
        assert_eq!(seqs(received), expected, "gapless, in order");
        assert_eq!(
            received, &seen[0],
            "every member sees the same messages in the same order"
        );
    }
    // Each sender's own messages keep their order.
    for m in 0..MEMBERS {
        let order: Vec<u64> = seen[0]
            .iter()
            .filter(|msg| msg["data"]["m"] == m)
            .map(|msg| msg["data"]["i"].as_u64().unwrap())
            .collect();
        assert_eq!(order, (0..EACH as u64).collect::<Vec<_>>());
    }
}

async fn members_leaving_mid_broadcast_do_not_disturb_the_rest(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut sender, _) = join(&app, 0, "churn", "").await;
    let mut stayers = Vec::new();
    let mut leavers = Vec::new();
    for i in 0..12 {
        // On a cluster, a stayer and a leaver on one node, then two on the other.
        let (ws, _) = join(&app, i / 2, "churn", "").await;
        if i % 2 == 0 { stayers.push(ws) } else { leavers.push(ws) }
    }
    let sending = tokio::spawn(async move {
        for i in 0..100 {
            sender.send(Message::text(i.to_string())).await.unwrap();
        }
        sender
    });
    for mut leaver in leavers {
        let _ = leaver.close(None).await;
    }
    let _sender = sending.await.unwrap();
    for mut stayer in stayers {
        let mut data = Vec::new();
        let mut left = 0;
        while data.len() < 100 {
            let event = next_json(&mut stayer).await;
            match event["type"].as_str().unwrap() {
                "message" => data.push(event["data"].as_u64().unwrap()),
                "leave" => left += 1,
                "join" => {}
                other => panic!("unexpected {other}: {event}"),
            }
        }
        assert_eq!(data, (0..100).collect::<Vec<_>>());
        while left < 6 {
            assert_eq!(next_of_type(&mut stayer, "leave").await["type"], "leave");
            left += 1;
        }
    }
}

async fn bad_urls_are_refused_before_the_upgrade(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let long = "x".repeat(65);
    let long_name = "n".repeat(65);
    let cases = [
        (format!("/ws/rooms/{long}"), "invalid_room"),
        ("/ws/rooms/two%20words".to_owned(), "invalid_room"),
        ("/ws/rooms/caf%C3%A9".to_owned(), "invalid_room"),
        ("/ws/rooms/ok?name=".to_owned(), "invalid_name"),
        ("/ws/rooms/ok?name=%20%20".to_owned(), "invalid_name"),
        ("/ws/rooms/ok?name=a%0Ab".to_owned(), "invalid_name"),
        (format!("/ws/rooms/ok?name={long_name}"), "invalid_name"),
        ("/ws/rooms/ok?since=-1".to_owned(), "invalid_since"),
        ("/ws/rooms/ok?since=abc".to_owned(), "invalid_since"),
        ("/ws/rooms/ok?since=".to_owned(), "invalid_since"),
        ("/ws/rooms/ok?notices=yes".to_owned(), "invalid_notices"),
        ("/ws/rooms/ok?notices=".to_owned(), "invalid_notices"),
        ("/ws/rooms/ok?notices=False".to_owned(), "invalid_notices"),
    ];
    for (node, (path, code)) in cases.into_iter().enumerate() {
        let (status, body) = refusal(&app.url(node, &path)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Names may be any language; the room was not created by the refused attempts.
    let (_ws, welcome) = join(&app, 1, "ok", "?name=%E5%90%8D%E5%89%8D").await;
    assert_eq!(welcome["members"], json!([{"id":welcome["id"],"name":"名前"}]));
}

async fn bad_messages_get_an_error_and_reach_no_one(broker: BrokerKind) {
    let limits = Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    let (mut sender, _) = join(&app, 0, "strict", "").await;
    let (mut other, _) = join(&app, 1, "strict", "").await;
    let _ = next_of_type(&mut sender, "join").await;

    for bad in ["hello", "{\"a\":", "", "{} {}"] {
        send_text(&mut sender, bad).await;
        let error = next_of_type(&mut sender, "error").await;
        assert_eq!(error["code"], "invalid_message", "{bad:?}: {error}");
    }
    sender.send(Message::binary(b"{}".to_vec())).await.unwrap();
    assert_eq!(next_of_type(&mut sender, "error").await["code"], "unsupported_binary");

    // Still a member: the next good message is seq 1 for everyone.
    send_text(&mut sender, "\"fine\"").await;
    for ws in [&mut sender, &mut other] {
        let message = next_of_type(ws, "message").await;
        assert_eq!(
            (message["seq"].as_u64(), message["data"].as_str()),
            (Some(1), Some("fine"))
        );
    }
    // Too big: closed with 1009; the others are told it left.
    send_text(&mut sender, &format!("\"{}\"", "x".repeat(2000))).await;
    assert_eq!(u16::from(next_close(&mut sender).await.code), 1009);
    assert_eq!(next_of_type(&mut other, "leave").await["type"], "leave");
}

async fn a_member_that_stops_reading_is_closed_and_the_others_go_on(broker: BrokerKind) {
    let limits = Limits {
        queue_capacity: 4,
        write_timeout: std::time::Duration::from_secs(1),
        ..Limits::default()
    };
    let options = Options::new().limits(limits).config(|config| config.rooms.history = 16);
    let app = Deployment::with(broker, options).await;
    let (mut sender, _) = join(&app, 0, "slow", "").await;
    let (stalled, _) = join(&app, 1, "slow", "").await; // never read from again
    let stalled_id = {
        let join = next_of_type(&mut sender, "join").await;
        join["id"].clone()
    };
    let payload = format!("\"{}\"", "x".repeat(32 * 1024));
    let mut left = false;
    // Sends until the stalled member is dropped; the sender keeps receiving everything.
    for i in 1..=2000u64 {
        send_text(&mut sender, &payload).await;
        loop {
            let event = next_json(&mut sender).await;
            match event["type"].as_str().unwrap() {
                "message" => {
                    assert_eq!(event["seq"], i);
                    break;
                }
                "leave" => {
                    assert_eq!(event["id"], stalled_id);
                    left = true;
                }
                other => panic!("unexpected {other}"),
            }
        }
        if left {
            break;
        }
    }
    assert!(left, "the stalled member was never dropped");
    drop(stalled);
}

async fn a_room_of_a_hundred_and_fifty_members_hears_every_message_in_order(broker: BrokerKind) {
    // The first member is told of 149 joins (the first 100 keep their notices past the
    // limit), then 10 messages: fewer than its queue holds (165), however late its
    // connection's task gets to run on a loaded machine.
    const MEMBERS: usize = 150;
    let app = Deployment::start(broker).await;
    let mut members = Vec::with_capacity(MEMBERS);
    for m in 0..MEMBERS {
        let (ws, welcome) = join(&app, m, "crowd", "").await;
        let count = members.len() + 1;
        assert_eq!(welcome["count"], count);
        // Listed up to the limit, counted past it.
        let listed = welcome["members"].as_array().map(Vec::len);
        assert_eq!(listed, (count <= RoomPolicy::default().notices_up_to).then_some(count));
        members.push(ws);
    }
    for i in 1..=10 {
        send_text(&mut members[i * 7], &i.to_string()).await;
    }
    let readers = members.into_iter().map(|mut ws| {
        tokio::spawn(async move {
            let received = messages(&mut ws, 10).await;
            seqs(&received)
        })
    });
    for seen in futures_util::future::try_join_all(readers).await.unwrap() {
        assert_eq!(seen, (1..=10).collect::<Vec<u64>>());
    }
}
