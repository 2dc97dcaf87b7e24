//! The hub's rules on a server alone (the in-process backplane); the integration tests
//! run the same rules across nodes on Redis.

use std::time::Duration;

use tungstenite::{Message, Utf8Bytes};

use super::*;
use crate::backplane::solo::Solo;
use crate::backplane::{Publication, RoomPolicy};
use crate::protocol::ClientId;
use crate::protocol::pairing::Draw;
use crate::protocol::rooms::{MemberCard, message_template};
use crate::session::outbox::{OutboxReader, Outgoing, outbox};

fn hub() -> Arc<Hub> {
    Hub::new(
        Arc::new(Solo::new(RoomPolicy::default(), Default::default())),
        Duration::from_millis(50),
        &Tasks::new(),
    )
}

fn device(n: u128) -> DeviceId {
    DeviceId::new(uuid::Uuid::from_u128(n))
}

fn display() -> Peer {
    Peer::display(device(1))
}

fn draw() -> Parcel {
    Parcel::Draw {
        draw: Draw {
            quiz_id: vec![1, 2, 3],
            action_id: 1,
        },
        difficulty: 1,
        held_since_ms: None,
    }
}

fn text(message: Outgoing) -> String {
    match message {
        Outgoing::Message(Message::Text(text), _) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_draw_is_delivered_once_written() {
    let hub = hub();
    assert_eq!(
        hub.deliver(display(), draw(), Wait::Written).await,
        Err(SendError::Offline)
    );
    let (queue, mut reader) = outbox(8);
    hub.attach(display(), queue, Version::V1).await.unwrap();
    assert!(hub.is_online(display()).await.unwrap());
    let sending = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.deliver(display(), draw(), Wait::Written).await })
    };
    let Outgoing::Message(message, Some(receipt)) = reader.next().await else {
        panic!("a receipted message")
    };
    assert_eq!(message, Message::Text(r#"{"quiz_id":[1,2,3],"action_id":1}"#.into()));
    assert!(!sending.is_finished());
    receipt.confirm();
    sending.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_replaced_connection_is_closed_and_its_clean_up_keeps_the_new_one() {
    let hub = hub();
    let (old, mut old_reader) = outbox(8);
    let old_generation = hub.attach(display(), old, Version::V1).await.unwrap();
    let (new, mut new_reader) = outbox(8);
    hub.attach(display(), new, Version::V2).await.unwrap();
    match old_reader.next().await {
        Outgoing::Close(frame) => assert_eq!((u16::from(frame.code), frame.reason.as_str()), (4001, "replaced")),
        other => panic!("expected a close, got {other:?}"),
    }
    hub.detach(display(), old_generation).await;
    assert!(
        hub.is_online(display()).await.unwrap(),
        "old clean-up unregistered the new one"
    );
    hub.deliver(display(), draw(), Wait::Pushed).await.unwrap();
    assert!(
        text(new_reader.next().await).starts_with(r#"{"type":"draw""#),
        "in the new one's version"
    );
}

#[tokio::test]
async fn a_slow_consumer_is_dropped_from_the_registry() {
    let hub = hub();
    let (queue, _reader) = outbox(1);
    queue.push(Message::Text("1".into())).unwrap();
    hub.attach(display(), queue, Version::V1).await.unwrap();
    assert_eq!(
        hub.deliver(display(), draw(), Wait::Queued).await,
        Err(SendError::SlowConsumer)
    );
    assert!(!hub.is_online(display()).await.unwrap());
}

async fn attach(hub: &Hub, peer: Peer, version: Version) -> (Generation, OutboxReader) {
    let (queue, reader) = outbox(8);
    (hub.attach(peer, queue, version).await.unwrap(), reader)
}

#[tokio::test]
async fn a_v2_side_hears_its_counterpart_come_and_go_and_a_v1_side_does_not() {
    let hub = hub();
    let (_, mut screen) = attach(&hub, display(), Version::V2).await;
    let controller = Peer::controller(device(1));
    let (generation, mut phone) = attach(&hub, controller, Version::V1).await;
    assert_eq!(
        text(screen.next().await),
        r#"{"type":"peer","role":"controller","connected":true}"#
    );
    let (replacing, _phone_again) = attach(&hub, controller, Version::V1).await;
    assert_eq!(
        text(screen.next().await),
        r#"{"type":"peer","role":"controller","connected":true}"#,
        "a replacement is announced again"
    );
    hub.detach(controller, generation).await;
    assert!(screen.try_next().is_none(), "the replaced one's end is not announced");
    hub.detach(controller, replacing).await;
    assert_eq!(
        text(screen.next().await),
        r#"{"type":"peer","role":"controller","connected":false}"#
    );
    assert!(
        matches!(phone.next().await, Outgoing::Close(_)),
        "v1: only its own close"
    );
}

#[tokio::test]
async fn codes_live_while_their_display_is_connected() {
    let hub = hub();
    assert_eq!(
        hub.pairing_code(device(1), Duration::from_secs(60)).await,
        Err(SendError::Offline)
    );
    let (generation, _reader) = attach(&hub, display(), Version::V1).await;
    let issued = hub.pairing_code(device(1), Duration::from_secs(60)).await.unwrap();
    assert_eq!(hub.resolve_code(issued.code).await.unwrap(), Some(device(1)));
    hub.detach(display(), generation).await;
    assert_eq!(hub.resolve_code(issued.code).await.unwrap(), None);
}

#[tokio::test]
async fn the_census_counts_each_kind_apart() {
    let hub = hub();
    let _display = attach(&hub, Peer::display(device(2)), Version::V1).await;
    let _other = attach(&hub, display(), Version::V1).await;
    let _controller = attach(&hub, Peer::controller(device(2)), Version::V1).await;
    let (_a, _a_reader) = member(&hub, &room()).await;
    let (_b, _b_reader) = member(&hub, &room()).await;
    let (_c, _c_reader) = member(&hub, &Group::Signal("r".parse().unwrap())).await;
    let census = hub.census();
    assert_eq!((census.displays, census.controllers), (2, 1));
    assert_eq!((census.rooms, census.room_members), (1, 2));
    assert_eq!(
        (census.signal_rooms, census.signal_peers, census.hub_clients),
        (1, 1, 0)
    );
}

fn room() -> Group {
    Group::Room("r".parse().unwrap())
}

async fn member(hub: &Hub, group: &Group) -> (ClientId, OutboxReader) {
    member_wanting(hub, group, true).await
}

/// A member that asks for the others' notices or not.
async fn member_wanting(hub: &Hub, group: &Group, wants_notices: bool) -> (ClientId, OutboxReader) {
    let (queue, reader) = outbox(64);
    let card = MemberCard {
        id: ClientId::random(),
        name: None,
    };
    let id = card.id;
    let joining = Joining {
        card,
        outbox: queue,
        since: None,
        welcome: Some(Box::new(|roster: &Roster| {
            Message::Text(format!("welcome {}", roster.seq).into())
        })),
        notice: Some(Message::Text(format!("join {id}").into())),
        farewell: Some(Message::Text(format!("leave {id}").into())),
        wants_notices,
    };
    hub.join(group, joining).await.unwrap();
    (id, reader)
}

async fn say(hub: &Hub, data: &str) -> Option<u64> {
    let data = serde_json::value::RawValue::from_string(data.to_owned()).unwrap();
    let template = message_template(&"r".parse().unwrap(), ClientId::random(), None, &data);
    hub.publish(&room(), Publication::Sequenced(template)).await.unwrap()
}

fn drain(reader: &mut OutboxReader) -> Vec<String> {
    std::iter::from_fn(|| reader.try_next()).map(text).collect()
}

#[tokio::test]
async fn members_hear_the_welcome_first_then_every_message_once_in_order() {
    let hub = hub();
    let (first, mut first_reader) = member(&hub, &room()).await;
    assert_eq!(say(&hub, "1").await, Some(1));
    let (second, mut second_reader) = member(&hub, &room()).await;
    assert_eq!(say(&hub, "2").await, Some(2));
    hub.leave(&room(), second).await;

    let heard = drain(&mut first_reader);
    assert_eq!(heard[0], "welcome 0");
    assert!(heard[1].contains(r#""seq":1"#));
    assert_eq!(heard[2], format!("join {second}"));
    assert!(heard[3].contains(r#""seq":2"#));
    assert_eq!(heard[4], format!("leave {second}"));
    assert_eq!(heard.len(), 5);
    let heard = drain(&mut second_reader);
    assert_eq!(heard[0], "welcome 1", "its own join is not announced to it");
    assert!(heard[1].contains(r#""seq":2"#));
    assert_eq!(heard.len(), 2);
    let _ = first;
}

#[tokio::test]
async fn a_member_that_wants_no_notices_hears_only_messages() {
    let hub = hub();
    let (_quiet, mut quiet_reader) = member_wanting(&hub, &room(), false).await;
    let (other, _reader) = member(&hub, &room()).await;
    say(&hub, "1").await;
    hub.leave(&room(), other).await;
    let heard = drain(&mut quiet_reader);
    assert_eq!(heard[0], "welcome 0");
    assert!(heard[1].contains(r#""seq":1"#));
    assert_eq!(heard.len(), 2, "no join, no leave: {heard:?}");
}

#[tokio::test]
async fn a_member_joining_with_since_is_replayed_what_it_missed() {
    let hub = hub();
    let (_first, _reader) = member(&hub, &room()).await;
    for n in 1..=3 {
        say(&hub, &n.to_string()).await;
    }
    let (queue, mut reader) = outbox(64);
    let joining = Joining {
        card: MemberCard {
            id: ClientId::random(),
            name: None,
        },
        outbox: queue,
        since: Some(1),
        welcome: Some(Box::new(|roster: &Roster| {
            Message::Text(format!("welcome {} {:?}", roster.seq, roster.recovered).into())
        })),
        notice: None,
        farewell: None,
        wants_notices: true,
    };
    hub.join(&room(), joining).await.unwrap();
    let heard = drain(&mut reader);
    assert_eq!(heard[0], "welcome 3 Some(true)");
    assert!(heard[1].contains(r#""seq":2"#) && heard[2].contains(r#""seq":3"#));
    assert_eq!(heard.len(), 3);
}

#[tokio::test]
async fn a_direct_message_reaches_only_its_member() {
    let hub = hub();
    let signal = Group::Signal("r".parse().unwrap());
    let (a, mut a_reader) = member(&hub, &signal).await;
    let (_b, mut b_reader) = member(&hub, &signal).await;
    drain(&mut a_reader);
    drain(&mut b_reader);
    let message = Message::Text(Utf8Bytes::from_static("offer"));
    hub.deliver_to_member(&signal, a, message).await.unwrap();
    assert_eq!(drain(&mut a_reader), ["offer"]);
    assert!(drain(&mut b_reader).is_empty());
    assert_eq!(
        hub.deliver_to_member(&signal, ClientId::random(), Message::Text("x".into()))
            .await,
        Err(SendError::Offline)
    );
}
