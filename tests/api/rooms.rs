//! Rooms (`/ws/rooms/{room}`): welcome, join and leave notices, sequenced messages that
//! every member sees in one order without gaps, and recovery with `?since=`.

use futures_util::SinkExt;
use pairlink::backplane::RoomPolicy;
use pairlink::db::Backend;
use pairlink::session::Limits;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

async fn rooms_app(history: usize, retention: std::time::Duration) -> TestApp {
    spawn(Setup::new(Backend::Sqlite).config(move |config| config.rooms = RoomPolicy { history, retention })).await
}

/// Joins `room` with the query string `query` (e.g. `?name=Ana`); returns the socket and its welcome.
async fn join(app: &TestApp, room: &str, query: &str) -> (Ws, Value) {
    let mut ws = connect(&app.ws_url(&format!("/ws/rooms/{room}{query}")))
        .await
        .expect("joins the room");
    let welcome = next_of_type(&mut ws, "welcome").await;
    (ws, welcome)
}

/// Reads `count` room messages and returns them.
async fn messages(ws: &mut Ws, count: usize) -> Vec<Value> {
    let mut received = Vec::with_capacity(count);
    while received.len() < count {
        let event = next_json(ws).await;
        if event["type"] == "message" {
            received.push(event);
        }
    }
    received
}

fn seqs(messages: &[Value]) -> Vec<u64> {
    messages.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_are_welcomed_announced_and_see_each_message_with_its_seq() {
    let app = spawn_default(Backend::Sqlite).await;
    let (mut ana, welcome) = join(&app, "lobby", "?name=Ana").await;
    let ana_id = welcome["id"].as_str().unwrap().to_owned();
    assert_eq!(
        welcome,
        json!({"type":"welcome","id":ana_id,"seq":0,"members":[{"id":ana_id,"name":"Ana"}]})
    );

    let (mut anon, welcome) = join(&app, "lobby", "").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rooms_are_separate() {
    let app = spawn_default(Backend::Sqlite).await;
    let (mut red, _) = join(&app, "red", "").await;
    let (mut blue, welcome) = join(&app, "blue", "").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_give_every_member_the_same_gapless_sequence() {
    const MEMBERS: usize = 8;
    // 120 messages per member: fewer than a member's queue holds (165), so a member
    // whose task is starved on a loaded machine is not closed as a slow consumer.
    const EACH: usize = 15;
    let app = spawn_default(Backend::Sqlite).await;
    let mut members = Vec::new();
    for _ in 0..MEMBERS {
        members.push(join(&app, "busy", "").await.0);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_leaving_mid_broadcast_do_not_disturb_the_rest() {
    let app = spawn_default(Backend::Sqlite).await;
    let (mut sender, _) = join(&app, "churn", "").await;
    let mut stayers = Vec::new();
    let mut leavers = Vec::new();
    for i in 0..12 {
        let (ws, _) = join(&app, "churn", "").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_that_rejoins_with_since_gets_exactly_what_it_missed() {
    let app = spawn_default(Backend::Sqlite).await;
    let (mut talker, _) = join(&app, "recover", "").await;
    let (mut listener, _) = join(&app, "recover", "").await;
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

    let (mut listener, welcome) = join(&app, "recover", "?since=3").await;
    assert_eq!(
        (welcome["seq"].as_u64(), welcome["recovered"].as_bool()),
        (Some(8), Some(true))
    );
    send_text(&mut talker, "9").await;
    let replayed_then_live = messages(&mut listener, 6).await;
    assert_eq!(seqs(&replayed_then_live), [4, 5, 6, 7, 8, 9]);
    assert_eq!(replayed_then_live[0]["data"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery_at_the_edge_of_the_history() {
    let app = rooms_app(5, std::time::Duration::from_secs(60)).await;
    let (mut talker, _) = join(&app, "edge", "").await;
    for i in 1..=10 {
        send_text(&mut talker, &i.to_string()).await;
    }
    messages(&mut talker, 10).await;
    // Messages 6..=10 are kept: since=5 misses nothing that is gone.
    let (mut ws, welcome) = join(&app, "edge", "?since=5").await;
    assert_eq!(welcome["recovered"], true);
    assert_eq!(seqs(&messages(&mut ws, 5).await), [6, 7, 8, 9, 10]);
    // since=4 missed message 5, which is gone: told so, and given what is kept.
    let (mut ws, welcome) = join(&app, "edge", "?since=4").await;
    assert_eq!(welcome["recovered"], false);
    assert_eq!(seqs(&messages(&mut ws, 5).await), [6, 7, 8, 9, 10]);
    // Up to date: nothing to replay; the next message is live.
    let (mut ws, welcome) = join(&app, "edge", "?since=10").await;
    assert_eq!(
        (welcome["recovered"].as_bool(), welcome["seq"].as_u64()),
        (Some(true), Some(10))
    );
    send_text(&mut talker, "11").await;
    assert_eq!(seqs(&messages(&mut ws, 1).await), [11]);
    // A seq the room never reached (it was forgotten and started again): not recovered.
    let (_ws, welcome) = join(&app, "edge", "?since=99").await;
    assert_eq!(welcome["recovered"], false);
    // Without since, no replay and no "recovered".
    let (_ws, welcome) = join(&app, "edge", "").await;
    assert!(welcome.get("recovered").is_none(), "{welcome}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joining_with_since_while_messages_flow_loses_and_repeats_nothing() {
    let app = rooms_app(10_000, std::time::Duration::from_secs(60)).await;
    let (mut talker, _) = join(&app, "flow", "").await;
    let sending = tokio::spawn(async move {
        for i in 1..=400 {
            talker.send(Message::text(i.to_string())).await.unwrap();
        }
        talker
    });
    // Joins at some point during the flow, asking for everything from the start.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (mut late, welcome) = join(&app, "flow", "?since=0").await;
    assert_eq!(welcome["recovered"], true);
    let _talker = sending.await.unwrap();
    let received = messages(&mut late, 400).await;
    assert_eq!(seqs(&received), (1..=400).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_empty_room_keeps_its_history_for_the_retention_period_only() {
    let kept = spawn_default(Backend::Sqlite).await; // default retention: minutes
    let forgotten = rooms_app(100, std::time::Duration::ZERO).await;
    for app in [&kept, &forgotten] {
        let (mut ws, _) = join(app, "r", "").await;
        send_text(&mut ws, "1").await;
        messages(&mut ws, 1).await;
        ws.close(None).await.unwrap();
        let _ = next(&mut ws).await; // the server's close reply: it has let go of the member
    }
    let (_ws, welcome) = join(&kept, "r", "?since=0").await;
    assert_eq!(
        (welcome["seq"].as_u64(), welcome["recovered"].as_bool()),
        (Some(1), Some(true))
    );
    let (_ws, welcome) = join(&forgotten, "r", "?since=0").await;
    assert_eq!(welcome["seq"], 0, "a room with no retention starts again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_urls_are_refused_before_the_upgrade() {
    let app = spawn_default(Backend::Sqlite).await;
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
    ];
    for (path, code) in cases {
        let (status, body) = refusal(&app.ws_url(&path)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Names may be any language; the room was not created by the refused attempts.
    let (_ws, welcome) = join(&app, "ok", "?name=%E5%90%8D%E5%89%8D").await;
    assert_eq!(welcome["members"], json!([{"id":welcome["id"],"name":"名前"}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_messages_get_an_error_and_reach_no_one() {
    let limits = Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    };
    let app = spawn(Setup::new(Backend::Sqlite).limits(limits)).await;
    let (mut sender, _) = join(&app, "strict", "").await;
    let (mut other, _) = join(&app, "strict", "").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_that_stops_reading_is_closed_and_the_others_go_on() {
    let limits = Limits {
        queue_capacity: 4,
        write_timeout: std::time::Duration::from_secs(1),
        ..Limits::default()
    };
    let app = spawn(
        Setup::new(Backend::Sqlite)
            .limits(limits)
            .config(|config| config.rooms.history = 16),
    )
    .await;
    let (mut sender, _) = join(&app, "slow", "").await;
    let (stalled, _) = join(&app, "slow", "").await; // never read from again
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_room_of_a_hundred_and_fifty_members_hears_every_message_in_order() {
    // The first member is told of 149 joins, then 10 messages: fewer than its queue holds
    // (165), however late its connection's task gets to run on a loaded machine.
    const MEMBERS: usize = 150;
    let app = spawn_default(Backend::Sqlite).await;
    let mut members = Vec::with_capacity(MEMBERS);
    for _ in 0..MEMBERS {
        let (ws, welcome) = join(&app, "crowd", "").await;
        assert_eq!(welcome["members"].as_array().unwrap().len(), members.len() + 1);
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
