//! Groups across nodes: the chat hub, rooms and signaling rooms, as Redis keeps them.
//!
//! A group's members, counters and history live in Redis; its messages travel on the
//! group's channel, which every node with members in the group subscribes to, and each
//! node's hub hands them to its own members. Lua scripts order a group's steps, so every
//! node sees one order. A member's card in Redis carries its farewell, so that whoever
//! takes it out (the member's node, or the janitor after that node died) tells the others
//! the same thing.

use serde::{Deserialize, Serialize};
use tungstenite::Message;

use super::keys::kind_and_body;
use super::{RedisBackplane, scripts, unavailable};
use crate::address::Group;
use crate::backplane::{NodeId, Publication, Registrations, Snapshot, Unavailable};
use crate::metrics::METRICS;
use crate::protocol::ClientId;
use crate::protocol::rooms::{MemberCard, MemberName};

/// A member as stored in Redis.
#[derive(Debug, Serialize, Deserialize)]
struct StoredCard {
    node: String,
    name: Option<String>,
    #[serde(default)]
    order: u64,
    /// Told to the others when the member leaves.
    #[serde(default)]
    farewell: Option<String>,
}

impl StoredCard {
    fn new(node: &str, card: &MemberCard, farewell: Option<&Message>) -> Self {
        Self {
            node: node.to_owned(),
            name: card.name.as_ref().map(|name| name.to_string()),
            order: 0,
            farewell: farewell.and_then(text_of),
        }
    }
}

fn text_of(message: &Message) -> Option<String> {
    match message {
        Message::Text(text) => Some(text.to_string()),
        _ => None,
    }
}

/// Subscribes to `group`'s channel for one more member of this node. Refused while the
/// subscription connection is down: a member joined then would miss messages unseen.
async fn need_channel(backplane: &RedisBackplane, group: &Group) -> Result<(), Unavailable> {
    let shared = &backplane.0;
    let channel = shared.keys.group_channel(group);
    let mut subscriptions = shared.subscriptions.lock().await;
    let not_subscribed = || Unavailable("not subscribed to Redis".to_owned());
    if !shared.subscribed.load(std::sync::atomic::Ordering::Relaxed) {
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
async fn release_channel(backplane: &RedisBackplane, group: &Group) {
    let channel = backplane.0.keys.group_channel(group);
    let mut subscriptions = backplane.0.subscriptions.lock().await;
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
    format!("{}\t{id}", group.name())
}

/// The group and member an entry of a node's member index names.
pub fn parse_index_entry(entry: &str) -> Option<(Group, ClientId)> {
    let (name, id) = entry.split_once('\t')?;
    Some((Group::from_name(name)?, id.parse().ok()?))
}

pub async fn join(
    backplane: &RedisBackplane,
    group: &Group,
    card: &MemberCard,
    notice: Option<&Message>,
    farewell: Option<&Message>,
) -> Result<Snapshot, Unavailable> {
    need_channel(backplane, group).await?;
    if !group.keeps_roster() {
        // The chat hub keeps no roster and no history: a member hears what comes from now on.
        return Ok(Snapshot::default());
    }
    let snapshot = register(backplane, group, card, notice, farewell).await;
    if snapshot.is_err() {
        release_channel(backplane, group).await;
    }
    snapshot
}

/// Adds the member to the group in Redis and takes the snapshot, in one script.
async fn register(
    backplane: &RedisBackplane,
    group: &Group,
    card: &MemberCard,
    notice: Option<&Message>,
    farewell: Option<&Message>,
) -> Result<Snapshot, Unavailable> {
    let shared = &backplane.0;
    let keys = shared.keys.group_keys(group);
    let stored = StoredCard::new(&shared.node, card, farewell);
    let limit = shared.rooms.listed_up_to(group).map_or(-1, |limit| limit as i64);
    METRICS.redis_round_trips.inc();
    let (members, seq, history, event, count, listed): (Vec<String>, u64, Vec<String>, u64, usize, u8) = scripts::JOIN
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .key(&keys[3])
        .key(&keys[4])
        .key(shared.keys.node_members(&shared.node))
        .arg(card.id.to_string())
        .arg(serde_json::to_string(&stored).expect("cards serialise"))
        .arg(shared.keys.group_channel(group))
        .arg(notice.and_then(text_of).unwrap_or_default())
        .arg(shared.keys.alive(""))
        .arg(index_entry(group, card.id))
        .arg(limit)
        .invoke_async(&mut backplane.redis())
        .await
        .map_err(unavailable)?;
    let others = (listed == 1).then(|| {
        in_join_order(&members)
            .into_iter()
            .filter(|other| other.id != card.id)
            .collect()
    });
    Ok(Snapshot {
        others,
        count,
        seq,
        history: history.into_iter().map(Into::into).collect(),
        event,
    })
}

/// Members as Redis lists them (id, stored card, …), in join order.
fn in_join_order(members: &[String]) -> Vec<MemberCard> {
    let mut cards: Vec<(u64, MemberCard)> = members
        .chunks(2)
        .filter_map(|pair| {
            let id: ClientId = pair.first()?.parse().ok()?;
            let stored: StoredCard = serde_json::from_str(pair.get(1)?).ok()?;
            let name = stored.name.and_then(|name| name.parse::<MemberName>().ok());
            Some((stored.order, MemberCard { id, name }))
        })
        .collect();
    cards.sort_by_key(|(order, _)| *order);
    cards.into_iter().map(|(_, card)| card).collect()
}

/// Every member of `group` on a live node, in join order: one read of the members and
/// one liveness check per node, however many members.
pub async fn roster(backplane: &RedisBackplane, group: &Group) -> Result<Vec<MemberCard>, Unavailable> {
    let shared = &backplane.0;
    let mut redis = backplane.redis();
    METRICS.redis_round_trips.inc();
    let all: Vec<String> = redis::cmd("HGETALL")
        .arg(&shared.keys.group_keys(group)[0])
        .query_async(&mut redis)
        .await
        .map_err(unavailable)?;
    let nodes: Vec<String> = all
        .chunks(2)
        .filter_map(|pair| serde_json::from_str::<StoredCard>(pair.get(1)?).ok())
        .map(|card| card.node)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for node in &nodes {
        pipe.exists(shared.keys.alive(node));
    }
    METRICS.redis_round_trips.inc();
    let alive: Vec<bool> = pipe.query_async(&mut redis).await.map_err(unavailable)?;
    let live: std::collections::HashSet<&str> = nodes
        .iter()
        .zip(alive)
        .filter_map(|(node, alive)| alive.then_some(node.as_str()))
        .collect();
    let on_live_nodes: Vec<String> = all
        .chunks(2)
        .filter(|pair| {
            pair.get(1)
                .and_then(|card| serde_json::from_str::<StoredCard>(card).ok())
                .is_some_and(|card| live.contains(card.node.as_str()))
        })
        .flatten()
        .cloned()
        .collect();
    Ok(in_join_order(&on_live_nodes))
}

pub async fn leave(backplane: &RedisBackplane, group: &Group, id: ClientId) {
    release_channel(backplane, group).await;
    if !group.keeps_roster() {
        return;
    }
    if let Err(err) = unregister(backplane, &backplane.0.node, group, id).await {
        tracing::debug!(%err, "could not leave a group in Redis; the repair will");
    }
}

/// Removes member `id` of `node` from `group` in Redis; the others hear its farewell.
pub async fn unregister(
    backplane: &RedisBackplane,
    node: &str,
    group: &Group,
    id: ClientId,
) -> Result<(), Unavailable> {
    let shared = &backplane.0;
    let keys = shared.keys.group_keys(group);
    let retention = match group {
        Group::Room(_) => shared.rooms.retention.as_millis() as u64,
        _ => 0,
    };
    let mut redis = backplane.redis();
    METRICS.redis_round_trips.inc();
    let _: i64 = scripts::LEAVE
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .key(&keys[3])
        .key(&keys[4])
        .arg(id.to_string())
        .arg(shared.keys.group_channel(group))
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
    backplane: &RedisBackplane,
    group: &Group,
    publication: Publication,
) -> Result<Option<u64>, Unavailable> {
    let shared = &backplane.0;
    let keys = shared.keys.group_keys(group);
    let mut script = scripts::PUBLISH.key(&keys[1]);
    script.key(&keys[2]).key(&keys[3]).arg(shared.keys.group_channel(group));
    match &publication {
        Publication::Plain(message) => {
            let Some((kind, body)) = kind_and_body(message) else {
                return Ok(None);
            };
            script.arg(kind).arg(body).arg("").arg(-1);
        }
        Publication::Sequenced(template) => {
            let (before, after) = template.parts();
            script.arg("t").arg(before).arg(after).arg(shared.rooms.history as i64);
        }
    }
    METRICS.redis_round_trips.inc();
    let seq: u64 = script.invoke_async(&mut backplane.redis()).await.map_err(unavailable)?;
    Ok((seq > 0).then_some(seq))
}

/// The other node where member `id` of `group` is connected.
pub async fn locate_member(
    backplane: &RedisBackplane,
    group: &Group,
    id: ClientId,
) -> Result<Option<NodeId>, Unavailable> {
    let shared = &backplane.0;
    METRICS.redis_round_trips.inc();
    let card: Option<String> = redis::cmd("HGET")
        .arg(&shared.keys.group_keys(group)[0])
        .arg(id.to_string())
        .query_async(&mut backplane.redis())
        .await
        .map_err(unavailable)?;
    Ok(card
        .and_then(|card| serde_json::from_str::<StoredCard>(&card).ok())
        .map(|card| card.node)
        .filter(|node| *node != shared.node)
        .map(NodeId))
}

/// Puts this node's room and signaling members back into Redis (after Redis lost them),
/// and takes out those that left while Redis was unreachable.
pub async fn reregister(backplane: &RedisBackplane, registrations: &Registrations) -> anyhow::Result<()> {
    let shared = &backplane.0;
    let registered: Vec<String> = redis::cmd("SMEMBERS")
        .arg(shared.keys.node_members(&shared.node))
        .query_async(&mut backplane.redis())
        .await?;
    for (group, id) in registered.iter().filter_map(|entry| parse_index_entry(entry)) {
        let here = registrations
            .members
            .iter()
            .any(|(g, card, _)| card.id == id && *g == group);
        if !here {
            unregister(backplane, &shared.node, &group, id).await?;
        }
    }
    let mut redis = backplane.redis();
    // In batches: one round trip per thousand members, not one each.
    for batch in registrations.members.chunks(1000) {
        let mut pipe = redis::pipe();
        for (group, card, farewell) in batch {
            let stored = StoredCard::new(&shared.node, card, farewell.as_ref());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_index_entries_read_back() {
        let group = Group::Room("lobby".parse().unwrap());
        let id = ClientId::random();
        assert_eq!(parse_index_entry(&index_entry(&group, id)), Some((group, id)));
        assert_eq!(parse_index_entry("room:lobby"), None);
    }
}
