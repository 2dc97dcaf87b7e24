//! Cleaning up after a node that died without saying goodbye (killed, crashed, cut off).
//!
//! Its addresses and members already count as gone once its `alive` key expires (every
//! lookup checks it). On each heartbeat, every node looks for such nodes whose channel
//! has no subscriber left (a paused node keeps its connection and is left alone); the
//! first to take the dead node's janitor lock removes its addresses and pairing codes
//! (telling each counterpart, through the hub, that its peer is gone), takes its members
//! out of their groups (the rest hear their farewells: `leave` / `peer_left`), and
//! forgets it.

use std::time::Duration;

use super::{RedisBackplane, groups, pairs};

/// How long one node may take over another's clean-up before someone else may.
const LOCK: Duration = Duration::from_secs(30);

pub async fn sweep(backplane: &RedisBackplane) -> anyhow::Result<()> {
    let shared = &backplane.0;
    let keys = &shared.keys;
    let mut redis = backplane.redis();
    let nodes: Vec<String> = redis::cmd("SMEMBERS").arg(keys.nodes()).query_async(&mut redis).await?;
    let others: Vec<String> = nodes.into_iter().filter(|node| *node != shared.node).collect();
    if others.is_empty() {
        return Ok(());
    }
    // Whether each other node is alive and still subscribed, in one round trip.
    let mut pipe = redis::pipe();
    for node in &others {
        pipe.exists(keys.alive(node))
            .cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(keys.node_channel(node));
    }
    let states: Vec<(bool, (String, i64))> = pipe.query_async(&mut redis).await?;
    for (node, (alive, (_, subscribers))) in others.into_iter().zip(states) {
        if !alive {
            // Its addresses count as gone: deliveries look them up again.
            shared.holders.forget_node(&node);
            shared.couriers.dismiss(&keys.node_channel(&node));
        }
        // Still subscribed: alive but slow or paused (its addresses already count as gone
        // while its key is missing). Cleaning up would make its members rejoin for
        // nothing; once its connection drops, it is cleaned up.
        if alive || subscribers > 0 {
            continue;
        }
        let lock = format!("{}janitor", keys.node_channel(&node));
        let taken: Option<String> = redis::cmd("SET")
            .arg(&lock)
            .arg(&shared.node)
            .arg("NX")
            .arg("PX")
            .arg(LOCK.as_millis() as u64)
            .query_async(&mut redis)
            .await?;
        if taken.is_some() {
            tracing::info!(dead = %node, "a node stopped without cleaning up; removing its connections");
            clean_up(backplane, &node).await?;
        }
    }
    Ok(())
}

async fn clean_up(backplane: &RedisBackplane, node: &str) -> anyhow::Result<()> {
    let shared = &backplane.0;
    let keys = &shared.keys;
    let mut redis = backplane.redis();
    let peers: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.node_peers(node))
        .query_async(&mut redis)
        .await?;
    let inbound = backplane.inbound();
    for peer in peers.iter().filter_map(|entry| pairs::parse_index_entry(entry)) {
        if pairs::release(backplane, node, peer, u64::MAX).await? {
            if let Some(inbound) = &inbound {
                inbound.peer_lost(peer).await;
            }
        }
    }
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.node_members(node))
        .query_async(&mut redis)
        .await?;
    for (group, id) in members.iter().filter_map(|entry| groups::parse_index_entry(entry)) {
        groups::unregister(backplane, node, &group, id).await?;
    }
    let _: () = redis::pipe()
        .del(keys.node_peers(node))
        .ignore()
        .del(keys.node_members(node))
        .ignore()
        .srem(keys.nodes(), node)
        .ignore()
        .query_async(&mut redis)
        .await?;
    Ok(())
}
