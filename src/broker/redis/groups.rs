//! Groups across nodes: the hub, rooms and signaling rooms, as Redis keeps them (this
//! node's own members are in `members.rs`).
//!
//! A group's members, counters and history live in Redis; its messages travel on the
//! group's channel, which every node with members in the group subscribes to, and each
//! node hands them to its own members. A joining member is first registered here as
//! *pending*: what arrives for the group meanwhile is kept aside, and after the join
//! script's snapshot the member gets its welcome, the replay, then whatever arrived after
//! the snapshot. So the welcome comes first and nothing is missed or repeated.

use std::collections::HashMap;

use axum::extract::ws::Message;
use serde::{Deserialize, Serialize};

use super::members::{Member, Pending, hand_over, push_to_local};
use super::wire::{Envelope, Frame, Keys, NodeMessage, Outcome};
use super::{RedisBroker, scripts, unavailable};
use crate::broker::groups::replay;
use crate::broker::{Group, Joining, Publication, Roster, SendError, Unavailable};
use crate::metrics::METRICS;
use crate::protocol::ClientId;
use crate::protocol::rooms::{MemberCard, MemberName, RoomEvent};
use crate::protocol::signaling::SignalEvent;

/// A member as stored in Redis.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCard {
    node: String,
    name: Option<String>,
    #[serde(default)]
    order: u64,
}

/// Subscribes to `group`'s channel for one more member of this node. Refused while the
/// subscription connection is down: a member joined then would miss messages unseen.
async fn need_channel(broker: &RedisBroker, group: &Group) -> Result<(), Unavailable> {
    let channel = broker.shared().keys.group_channel(group);
    let mut subscriptions = broker.shared().subscriptions.lock().await;
    let not_subscribed = || Unavailable("not subscribed to Redis".to_owned());
    if !broker.shared().subscribed.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(not_subscribed());
    }
    let count = subscriptions.groups.get(&channel).copied().unwrap_or(0);
    if count == 0 {
        let sink = subscriptions.sink.as_mut().ok_or_else(not_subscribed)?;
        // The sink has no timeout of its own; a half-open connection must not hang joins.
        match tokio::time::timeout(super::REDIS_TIMEOUT, sink.subscribe(&channel)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(unavailable(err)),
            Err(_) => return Err(Unavailable("Redis did not confirm the subscription".to_owned())),
        }
    }
    subscriptions.groups.insert(channel, count + 1);
    Ok(())
}

/// One member of this node fewer in `group`: unsubscribes after the last.
async fn release_channel(broker: &RedisBroker, group: &Group) {
    let channel = broker.shared().keys.group_channel(group);
    let mut subscriptions = broker.shared().subscriptions.lock().await;
    let count = subscriptions.groups.get(&channel).copied().unwrap_or(1);
    if count > 1 {
        subscriptions.groups.insert(channel, count - 1);
        return;
    }
    subscriptions.groups.remove(&channel);
    if let Some(sink) = subscriptions.sink.as_mut() {
        let _ = tokio::time::timeout(super::REDIS_TIMEOUT, sink.unsubscribe(&channel)).await;
    }
}

fn index_entry(group: &Group, id: ClientId) -> String {
    format!("{}\t{id}", Keys::group_name(group))
}

pub async fn join(broker: &RedisBroker, group: &Group, joining: Joining) -> Result<(), Unavailable> {
    need_channel(broker, group).await?;
    let Joining {
        card,
        outbox,
        since,
        welcome,
        notice,
    } = joining;
    let id = card.id;
    let members = &broker.shared().members;
    members.lock().entry(group.clone()).or_default().insert(
        id,
        Member {
            outbox: outbox.clone(),
            card: card.clone(),
            cursor: 0,
            pending: Some(Vec::new()),
        },
    );
    let snapshot = match group {
        // The hub keeps no roster and no history: a member hears what comes from now on.
        Group::Hub => Ok(Snapshot::default()),
        Group::Room(_) | Group::Signal(_) => register(broker, group, &card, notice.as_ref()).await,
    };
    let snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(err) => {
            {
                let mut all = members.lock();
                all.get_mut(group).map(|members| members.remove(&id));
                if all.get(group).is_some_and(HashMap::is_empty) {
                    all.remove(group);
                }
            }
            release_channel(broker, group).await;
            return Err(err);
        }
    };
    let mut all = members.lock();
    let Some(member) = all.get_mut(group).and_then(|group| group.get_mut(&id)) else {
        return Ok(());
    };
    let (recovered, replayed) = replay(snapshot.seq, &snapshot.history, since);
    if let Some(welcome) = welcome {
        let roster = Roster {
            others: snapshot.others,
            seq: snapshot.seq,
            recovered,
        };
        let _ = outbox.push(welcome(&roster));
    }
    for message in replayed {
        let _ = outbox.push(Message::Text(message.into()));
    }
    member.cursor = snapshot.event;
    for pending in member.pending.take().unwrap_or_default() {
        match pending {
            Pending::Group(envelope) => hand_over(member, id, &envelope),
            Pending::Direct(message) => {
                let _ = member.outbox.push(message);
            }
        }
    }
    Ok(())
}

/// What a joiner finds: the others, the last seq, the history, the last event.
#[derive(Default)]
struct Snapshot {
    others: Vec<MemberCard>,
    seq: u64,
    history: Vec<String>,
    event: u64,
}

/// Adds the member to the group in Redis and takes the snapshot, in one script.
async fn register(
    broker: &RedisBroker,
    group: &Group,
    card: &MemberCard,
    notice: Option<&Message>,
) -> Result<Snapshot, Unavailable> {
    let shared = broker.shared();
    let keys = shared.keys.group_keys(group);
    let stored = StoredCard {
        node: shared.node.clone(),
        name: card.name.as_ref().map(|name| name.to_string()),
        order: 0,
    };
    let notice = notice.and_then(Frame::from_message).map(|frame| match frame {
        Frame::Text(text) => text,
        Frame::Binary(_) => String::new(),
    });
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let (members, seq, history, event): (Vec<String>, u64, Vec<String>, u64) = scripts::JOIN
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .key(&keys[3])
        .key(&keys[4])
        .key(shared.keys.node_members(&shared.node))
        .arg(card.id.to_string())
        .arg(serde_json::to_string(&stored).expect("cards serialise"))
        .arg(shared.keys.group_channel(group))
        .arg(notice.unwrap_or_default())
        .arg(shared.keys.alive(""))
        .arg(index_entry(group, card.id))
        .invoke_async(&mut redis)
        .await
        .map_err(unavailable)?;
    let mut others: Vec<(u64, MemberCard)> = members
        .chunks(2)
        .filter_map(|pair| {
            let id: ClientId = pair.first()?.parse().ok()?;
            let stored: StoredCard = serde_json::from_str(pair.get(1)?).ok()?;
            let name = stored.name.and_then(|name| name.parse::<MemberName>().ok());
            (id != card.id).then_some((stored.order, MemberCard { id, name }))
        })
        .collect();
    others.sort_by_key(|(order, _)| *order);
    Ok(Snapshot {
        others: others.into_iter().map(|(_, card)| card).collect(),
        seq,
        history,
        event,
    })
}

pub async fn leave(broker: &RedisBroker, group: &Group, id: ClientId, notice: Option<Message>) {
    let removed = {
        let mut all = broker.shared().members.lock();
        let removed = all.get_mut(group).and_then(|members| members.remove(&id)).is_some();
        if all.get(group).is_some_and(HashMap::is_empty) {
            all.remove(group);
        }
        removed
    };
    if !removed {
        return;
    }
    release_channel(broker, group).await;
    if matches!(group, Group::Hub) {
        return;
    }
    let farewell = notice.and_then(|notice| match Frame::from_message(&notice) {
        Some(Frame::Text(text)) => Some(text),
        _ => None,
    });
    if let Err(err) = unregister(broker, &broker.shared().node, group, id, farewell.as_deref()).await {
        tracing::debug!(%err, "could not leave a group in Redis; the janitor will");
    }
}

/// Removes member `id` of `node` from `group` in Redis, telling the rest with `farewell`.
pub async fn unregister(
    broker: &RedisBroker,
    node: &str,
    group: &Group,
    id: ClientId,
    farewell: Option<&str>,
) -> Result<(), Unavailable> {
    let shared = broker.shared();
    let keys = shared.keys.group_keys(group);
    let retention = match group {
        Group::Room(_) => shared.rooms.retention.as_millis() as u64,
        _ => 0,
    };
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let _: i64 = scripts::LEAVE
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .key(&keys[3])
        .key(&keys[4])
        .arg(id.to_string())
        .arg(shared.keys.group_channel(group))
        .arg(farewell.unwrap_or_default())
        .arg(retention)
        .invoke_async(&mut redis)
        .await
        .map_err(unavailable)?;
    let _: Result<(), _> = redis::cmd("SREM")
        .arg(shared.keys.node_members(node))
        .arg(index_entry(group, id))
        .query_async(&mut redis)
        .await;
    Ok(())
}

pub async fn publish(
    broker: &RedisBroker,
    group: &Group,
    publication: Publication,
) -> Result<Option<u64>, Unavailable> {
    let shared = broker.shared();
    let keys = shared.keys.group_keys(group);
    let mut script = scripts::PUBLISH.key(&keys[1]);
    script.key(&keys[2]).key(&keys[3]).arg(shared.keys.group_channel(group));
    match &publication {
        Publication::Plain(message) => {
            let Some(frame) = Frame::from_message(message) else {
                return Ok(None);
            };
            let (kind, body) = Envelope::kind_and_body(&frame);
            script.arg(kind).arg(body).arg("").arg(-1);
        }
        Publication::Sequenced(template) => {
            let (before, after) = template.parts();
            script.arg("t").arg(before).arg(after).arg(shared.rooms.history as i64);
        }
    }
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let seq: u64 = script.invoke_async(&mut redis).await.map_err(unavailable)?;
    Ok((seq > 0).then_some(seq))
}

pub async fn send_to_member(
    broker: &RedisBroker,
    group: &Group,
    to: ClientId,
    message: Message,
) -> Result<(), SendError> {
    let shared = broker.shared();
    if let Some(outcome) = push_to_local(broker, group, to, &message) {
        return outcome;
    }
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let card: Option<String> = redis::cmd("HGET")
        .arg(&shared.keys.group_keys(group)[0])
        .arg(to.to_string())
        .query_async(&mut redis)
        .await
        .map_err(|err| SendError::from(unavailable(err)))?;
    let Some(node) = card
        .and_then(|card| serde_json::from_str::<StoredCard>(&card).ok())
        .map(|card| card.node)
    else {
        return Err(SendError::Offline);
    };
    let Some(frame) = Frame::from_message(&message) else {
        return Err(SendError::Offline);
    };
    if node == shared.node {
        return Err(SendError::Offline);
    }
    let outcome = broker
        .request(&node, |req, reply_to| NodeMessage::Member {
            req,
            reply_to,
            group: Keys::group_name(group),
            to,
            frame,
        })
        .await?;
    match outcome {
        Outcome::Delivered => Ok(()),
        Outcome::SlowConsumer => Err(SendError::SlowConsumer),
        Outcome::Offline => Err(SendError::Offline),
    }
}

/// What the rest of a group hears when member `id` goes without a word (its node died,
/// or it left while Redis was unreachable).
pub fn farewell_for(group: &Group, id: ClientId) -> Option<String> {
    match group {
        Group::Room(_) => Some(RoomEvent::Leave { id }.to_json()),
        Group::Signal(_) => Some(SignalEvent::PeerLeft { id }.to_json()),
        Group::Hub => None,
    }
}

/// Puts this node's room and signaling members back into Redis (after Redis lost them),
/// and takes out those that left while Redis was unreachable.
pub async fn reregister(broker: &RedisBroker) -> anyhow::Result<()> {
    let shared = broker.shared();
    let registered: Vec<String> = redis::cmd("SMEMBERS")
        .arg(shared.keys.node_members(&shared.node))
        .query_async(&mut broker.redis())
        .await?;
    for entry in registered {
        let Some((name, id)) = entry.split_once('\t') else {
            continue;
        };
        let (Some(group), Ok(id)) = (Keys::group_of_name(name), id.parse::<ClientId>()) else {
            continue;
        };
        let here = shared
            .members
            .lock()
            .get(&group)
            .is_some_and(|members| members.contains_key(&id));
        if !here {
            unregister(broker, &shared.node, &group, id, farewell_for(&group, id).as_deref()).await?;
        }
    }
    let entries: Vec<(Group, MemberCard)> = shared
        .members
        .lock()
        .iter()
        .filter(|(group, _)| !matches!(group, Group::Hub))
        .flat_map(|(group, members)| members.values().map(|member| (group.clone(), member.card.clone())))
        .collect();
    let mut redis = broker.redis();
    // In batches: one round trip per thousand members, not one each.
    for batch in entries.chunks(1000) {
        let mut pipe = redis::pipe();
        for (group, card) in batch {
            let stored = StoredCard {
                node: shared.node.clone(),
                name: card.name.as_ref().map(|name| name.to_string()),
                order: 0,
            };
            pipe.hset_nx(
                &shared.keys.group_keys(group)[0],
                card.id.to_string(),
                serde_json::to_string(&stored)?,
            )
            .ignore()
            .sadd(shared.keys.node_members(&shared.node), index_entry(group, card.id))
            .ignore();
        }
        METRICS.redis_round_trips.inc();
        let _: () = pipe.query_async(&mut redis).await?;
    }
    Ok(())
}
