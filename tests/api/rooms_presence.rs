//! Presence in rooms big and small: the member count in every welcome, join and leave
//! notices up to `--room-notices-up-to` members or until a member asks `?notices=false`,
//! and the roster on request (`{"type":"roster"}`).

use pairlink::backplane::RoomPolicy;
use serde_json::{Value, json};

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;
use crate::rooms::join;

on_both_brokers!(
    a_small_room_lists_its_members_counts_them_and_announces_joins_and_leaves,
    past_the_limit_a_joiner_gets_the_count_and_no_notices_while_earlier_members_keep_theirs,
    a_member_that_asks_for_no_notices_hears_only_messages,
    the_roster_is_paged_in_join_order_and_only_the_asker_sees_it,
    a_bad_roster_request_gets_an_error,
);

/// A deployment whose rooms list and announce members up to `limit`.
async fn listing_up_to(broker: BrokerKind, limit: usize) -> Deployment {
    let options = Options::new().config(move |config| {
        config.rooms = RoomPolicy {
            notices_up_to: limit,
            ..RoomPolicy::default()
        }
    });
    Deployment::with(broker, options).await
}

fn id_of(welcome: &Value) -> String {
    welcome["id"].as_str().expect("an id").to_owned()
}

/// Sends a message and checks that it is the next thing `ws` hears: nothing else (no
/// notice) came before it.
async fn hears_only_messages(sender: &mut Ws, listeners: &mut [&mut Ws], text: &str) {
    send_text(sender, &json!({ "text": text }).to_string()).await;
    for ws in listeners.iter_mut() {
        let message = next_of_type(ws, "message").await;
        assert_eq!(message["data"]["text"], text);
    }
}

async fn a_small_room_lists_its_members_counts_them_and_announces_joins_and_leaves(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut ana, welcome) = join(&app, 0, "small", "?name=Ana").await;
    let ana_id = id_of(&welcome);
    assert_eq!(
        (welcome["count"].clone(), welcome["notices"].clone()),
        (json!(1), json!(true))
    );

    let (mut bo, welcome) = join(&app, 1, "small", "?notices=true").await;
    let bo_id = id_of(&welcome);
    assert_eq!(
        welcome,
        json!({"type":"welcome","id":bo_id,"seq":0,"count":2,"notices":true,
               "members":[{"id":ana_id,"name":"Ana"},{"id":bo_id,"name":null}]})
    );
    assert_eq!(next_json(&mut ana).await, json!({"type":"join","id":bo_id,"name":null}));
    ana.close(None).await.unwrap();
    assert_eq!(next_json(&mut bo).await, json!({"type":"leave","id":ana_id}));
}

async fn past_the_limit_a_joiner_gets_the_count_and_no_notices_while_earlier_members_keep_theirs(broker: BrokerKind) {
    let app = listing_up_to(broker, 2).await;
    let (mut first, _) = join(&app, 0, "big", "").await;
    let (mut second, welcome) = join(&app, 1, "big", "").await;
    assert_eq!(
        (welcome["count"].clone(), welcome["notices"].clone()),
        (json!(2), json!(true))
    );
    let _ = next_of_type(&mut first, "join").await;

    // The third member is past the limit: counted, not listed, told of nothing.
    let (mut third, welcome) = join(&app, 0, "big", "").await;
    let third_id = id_of(&welcome);
    assert_eq!(
        welcome,
        json!({"type":"welcome","id":third_id,"seq":0,"count":3,"notices":false})
    );
    // Those who joined with notices keep them, so their roster stays exact.
    for ws in [&mut first, &mut second] {
        assert_eq!(next_json(ws).await, json!({"type":"join","id":third_id,"name":null}));
    }
    let (mut fourth, welcome) = join(&app, 1, "big", "").await;
    let fourth_id = id_of(&welcome);
    assert_eq!(
        (welcome["count"].clone(), welcome["notices"].clone()),
        (json!(4), json!(false))
    );
    for ws in [&mut first, &mut second] {
        assert_eq!(next_json(ws).await, json!({"type":"join","id":fourth_id,"name":null}));
    }
    fourth.close(None).await.unwrap();
    for ws in [&mut first, &mut second] {
        assert_eq!(next_json(ws).await, json!({"type":"leave","id":fourth_id}));
    }
    // The third heard neither the fourth's join nor its leave: only messages.
    hears_only_messages(&mut first, &mut [&mut third, &mut second], "still here").await;
}

async fn a_member_that_asks_for_no_notices_hears_only_messages(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut quiet, welcome) = join(&app, 0, "calm", "?notices=false&name=Quiet").await;
    let quiet_id = id_of(&welcome);
    assert_eq!(
        welcome,
        json!({"type":"welcome","id":quiet_id,"seq":0,"count":1,"notices":false,
               "members":[{"id":quiet_id,"name":"Quiet"}]}),
        "a small room still lists its members"
    );
    let (mut other, welcome) = join(&app, 1, "calm", "").await;
    assert_eq!(welcome["notices"], true);
    let (late, _) = join(&app, 0, "calm", "").await;
    let _ = next_of_type(&mut other, "join").await;
    drop(late);
    let _ = next_of_type(&mut other, "leave").await;
    hears_only_messages(&mut other, &mut [&mut quiet], "hi").await;
    let _ = next_of_type(&mut other, "message").await;
    // Its own comings and goings are still told to those who listen.
    quiet.close(None).await.unwrap();
    assert_eq!(next_json(&mut other).await, json!({"type":"leave","id":quiet_id}));
}

async fn the_roster_is_paged_in_join_order_and_only_the_asker_sees_it(broker: BrokerKind) {
    let app = listing_up_to(broker, 1).await;
    let mut members = Vec::new();
    let mut ids = Vec::new();
    for (i, name) in ["Ana", "Bo", "Cy"].into_iter().enumerate() {
        let (ws, welcome) = join(&app, i, "people", &format!("?name={name}")).await;
        ids.push(json!({"id":welcome["id"],"name":name}));
        members.push(ws);
    }
    let asker = &mut members[2];
    send_text(asker, r#"{"type":"roster"}"#).await;
    assert_eq!(
        next_json(asker).await,
        json!({"type":"roster","count":3,"offset":0,"members":ids})
    );
    send_text(asker, r#"{"offset":1,"type":"roster","extra":true}"#).await;
    assert_eq!(
        next_json(asker).await,
        json!({"type":"roster","count":3,"offset":1,"members":ids[1..]})
    );
    send_text(asker, r#"{"type":"roster","offset":3}"#).await;
    assert_eq!(
        next_json(asker).await,
        json!({"type":"roster","count":3,"offset":3,"members":[]})
    );
    // The requests were not messages of the room: the others heard nothing of them.
    let (first, rest) = members.split_at_mut(1);
    let (second, third) = rest.split_at_mut(1);
    hears_only_messages(&mut first[0], &mut [&mut second[0], &mut third[0]], "after").await;
}

async fn a_bad_roster_request_gets_an_error(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let (mut asker, _) = join(&app, 0, "errors", "").await;
    let (mut other, _) = join(&app, 1, "errors", "?notices=false").await;
    let _ = next_of_type(&mut asker, "join").await;
    for bad in [
        r#"{"type":"roster","offset":-1}"#,
        r#"{"type":"roster","offset":"1"}"#,
        r#"{"type":"roster","offset":0.5}"#,
    ] {
        send_text(&mut asker, bad).await;
        let error = next_of_type(&mut asker, "error").await;
        assert_eq!(error["code"], "invalid_message", "{bad}: {error}");
    }
    // Objects of other types, and a "roster" that is not the type, are room messages.
    send_text(&mut asker, r#"{"kind":"roster"}"#).await;
    for ws in [&mut asker, &mut other] {
        assert_eq!(next_of_type(ws, "message").await["data"], json!({"kind":"roster"}));
    }
}
