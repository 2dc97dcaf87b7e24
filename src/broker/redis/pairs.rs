//! Pairing addresses across nodes: who holds `(uuid, role)`, delivery to a connection on
//! another node (with its outcome), replacement across nodes, and pairing codes.

use std::time::{Duration, SystemTime};

use axum::extract::ws::Message;

use super::wire::{Frame, NodeMessage, Outcome, Wait};
use super::{RedisBroker, scripts, unavailable};
use crate::broker::codes::IssuedCode;
use crate::broker::{Broker, Generation, Peer, SendError, Unavailable};
use crate::metrics::METRICS;
use crate::protocol::pairing::PairingCode;
use crate::protocol::{DeviceId, Role};
use crate::session::outbox::Outbox;

/// `{node}/{generation}`: the value of a pairing address's key.
fn holder_of(node: &str, generation: Generation) -> String {
    format!("{node}/{}", generation.0)
}

/// What the node's peer index lists for an address.
fn index_entry(peer: Peer) -> String {
    format!("{}:{}", peer.role, peer.device)
}

/// The address an index entry names.
pub fn parse_index_entry(entry: &str) -> Option<Peer> {
    let (role, uuid) = entry.split_once(':')?;
    let device = uuid.parse().ok()?;
    match role {
        "display" => Some(Peer::display(device)),
        "controller" => Some(Peer::controller(device)),
        _ => None,
    }
}

/// Removes `peer`'s key if `node` still holds it (its connection is gone), with a
/// display's pairing code; for the janitor (a dead node) and for repairs (a release that
/// failed).
pub async fn forget_for(broker: &RedisBroker, node: &str, peer: Peer, below: u64) -> redis::RedisResult<()> {
    let keys = &broker.shared().keys;
    let code_of = match peer.role {
        Role::Display => keys.code_of(&peer.device.to_string()),
        Role::Controller => String::new(),
    };
    METRICS.redis_round_trips.inc();
    let _: i64 = scripts::FORGET
        .key(keys.peer(peer))
        .key(keys.node_peers(node))
        .key(code_of)
        .arg(node)
        .arg(index_entry(peer))
        .arg(keys.code(""))
        .arg(below)
        .invoke_async(&mut broker.redis())
        .await?;
    Ok(())
}

pub async fn attach(broker: &RedisBroker, peer: Peer, outbox: Outbox) -> Result<Generation, Unavailable> {
    let shared = broker.shared();
    // Registered in Redis first: if that fails, the connection already holding the
    // address here is left alone (a same-node pair keeps working without Redis).
    let generation = shared.local.reserve_generation();
    let holder = holder_of(&shared.node, generation);
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let previous: Result<String, _> = scripts::ATTACH
        .key(shared.keys.peer(peer))
        .key(shared.keys.node_peers(&shared.node))
        .arg(&holder)
        .arg(index_entry(peer))
        .arg(&shared.node)
        .arg(generation.0)
        .invoke_async(&mut redis)
        .await;
    let previous = match previous {
        Ok(previous) => previous,
        Err(err) => {
            // The script may have run before its answer was lost: undo it if so.
            let broker = broker.clone();
            tokio::spawn(async move { detach(&broker, peer, generation).await });
            return Err(unavailable(err));
        }
    };
    // Either way the connection is registered here; if a newer one of this node won the
    // race, this one is closed with 4001 at once.
    shared.local.attach_as(peer, outbox, generation);
    if let Some((node, _)) = previous.split_once('/') {
        if node != shared.node {
            // The older connection is on another node: it closes it with 4001.
            let replaced = NodeMessage::Replaced {
                peer,
                holder: previous.clone(),
            };
            let payload = serde_json::to_vec(&replaced).expect("node messages serialise");
            let _ = broker.publish_raw(&shared.keys.node_channel(node), &payload).await;
        }
    }
    if peer.role == Role::Display {
        let _ = broker
            .publish_raw(&shared.keys.attached_channel(), peer.device.to_string().as_bytes())
            .await;
    }
    Ok(generation)
}

pub async fn detach(broker: &RedisBroker, peer: Peer, generation: Generation) {
    let shared = broker.shared();
    shared.local.detach(peer, generation).await;
    // Only this generation (or an older one of this node, long gone) is let go of.
    if let Err(err) = forget_for(broker, &shared.node, peer, generation.0 + 1).await {
        // Not fatal: the node's periodic repair lets go of it later.
        tracing::debug!(%err, "could not release an address in Redis");
    }
}

/// The node holding `peer`, if that node is alive.
pub async fn holder(broker: &RedisBroker, peer: Peer) -> Result<Option<String>, Unavailable> {
    let shared = broker.shared();
    if shared.local.is_online(peer).await? {
        // A newer holder elsewhere would have closed this one already (Replaced).
        return Ok(Some(shared.node.clone()));
    }
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let holder: String = scripts::HOLDER
        .key(shared.keys.peer(peer))
        .arg(shared.keys.alive(""))
        .invoke_async(&mut redis)
        .await
        .map_err(unavailable)?;
    Ok(holder.split_once('/').map(|(node, _)| node.to_owned()))
}

/// Delivers to `to` wherever it is connected.
pub async fn send(broker: &RedisBroker, to: Peer, message: Message, wait: Wait) -> Result<(), SendError> {
    let shared = broker.shared();
    if shared.local.is_online(to).await? {
        return match wait {
            Wait::Written => shared.local.send(to, message).await,
            Wait::Queued => shared.local.post(to, message).await,
        };
    }
    let Some(node) = holder(broker, to).await? else {
        return Err(SendError::Offline);
    };
    if node == shared.node {
        // Held here a moment ago and gone since.
        return Err(SendError::Offline);
    }
    let Some(frame) = Frame::from_message(&message) else {
        return Err(SendError::Offline);
    };
    let outcome = broker
        .request(&node, |req, reply_to| NodeMessage::Deliver {
            req,
            reply_to,
            peer: to,
            wait,
            frame,
        })
        .await?;
    match outcome {
        Outcome::Delivered => Ok(()),
        Outcome::Offline => Err(SendError::Offline),
        Outcome::SlowConsumer => Err(SendError::SlowConsumer),
    }
}

/// Another node's request for a connection of this one.
pub async fn deliver_here(broker: &RedisBroker, peer: Peer, wait: Wait, message: Message) -> Outcome {
    let local = &broker.shared().local;
    let result = match wait {
        Wait::Written => local.send(peer, message).await,
        Wait::Queued => local.post(peer, message).await,
    };
    match result {
        Ok(()) => Outcome::Delivered,
        Err(SendError::SlowConsumer) => Outcome::SlowConsumer,
        Err(_) => Outcome::Offline,
    }
}

/// A newer connection on another node took `peer`: close ours if it is `holder`.
pub async fn on_replaced(broker: &RedisBroker, peer: Peer, holder: &str) {
    let shared = broker.shared();
    let Some(generation) = holder
        .strip_prefix(&format!("{}/", shared.node))
        .and_then(|generation| generation.parse().ok())
    else {
        return;
    };
    shared.local.replace(peer, Generation(generation));
}

pub async fn pairing_code(broker: &RedisBroker, device: DeviceId, ttl: Duration) -> Result<IssuedCode, SendError> {
    if holder(broker, Peer::display(device)).await?.is_none() {
        return Err(SendError::Offline);
    }
    let shared = broker.shared();
    let uuid = device.to_string();
    let mut redis = broker.redis();
    loop {
        let candidate = PairingCode::random();
        METRICS.redis_round_trips.inc();
        let issued: Option<(String, i64)> = scripts::ISSUE_CODE
            .key(shared.keys.code_of(&uuid))
            .key(shared.keys.code(candidate.as_str()))
            .arg(candidate.as_str())
            .arg(&uuid)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut redis)
            .await
            .map_err(|err| SendError::from(unavailable(err)))?;
        let Some((code, left_ms)) = issued else { continue };
        let code = code.parse().map_err(|_| SendError::Offline)?;
        return Ok(IssuedCode {
            code,
            device,
            expires_at: SystemTime::now() + Duration::from_millis(left_ms.max(0) as u64),
        });
    }
}

pub async fn resolve_code(broker: &RedisBroker, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
    let shared = broker.shared();
    let mut redis = broker.redis();
    METRICS.redis_round_trips.inc();
    let uuid: Option<String> = redis::cmd("GET")
        .arg(shared.keys.code(code.as_str()))
        .query_async(&mut redis)
        .await
        .map_err(unavailable)?;
    let Some(device) = uuid.and_then(|uuid| uuid.parse::<DeviceId>().ok()) else {
        return Ok(None);
    };
    // A code ends with its display, also when the display's node died without saying so.
    Ok(broker.is_online(Peer::display(device)).await?.then_some(device))
}

/// Makes Redis agree with this node: puts its addresses back (after Redis lost them),
/// closes those a newer connection elsewhere took meanwhile, and lets go of those whose
/// connections ended while Redis was unreachable. Run after a reconnection and every few
/// heartbeats.
pub async fn reregister(broker: &RedisBroker) -> redis::RedisResult<()> {
    let shared = broker.shared();
    // Connections attaching from now on are not in `held` and must not be forgotten.
    let watermark = shared.local.reserve_generation().0;
    let held = shared.local.held();
    let registered: Vec<String> = redis::cmd("SMEMBERS")
        .arg(shared.keys.node_peers(&shared.node))
        .query_async(&mut broker.redis())
        .await?;
    for entry in registered {
        let Some(peer) = parse_index_entry(&entry) else {
            continue;
        };
        if !held.iter().any(|(held, _)| *held == peer) {
            forget_for(broker, &shared.node, peer, watermark).await?;
        }
    }
    let mut redis = broker.redis();
    // In batches: one round trip per thousand addresses, not one each.
    for batch in held.chunks(1000) {
        let mut pipe = redis::pipe();
        for (peer, generation) in batch {
            pipe.cmd("SET")
                .arg(shared.keys.peer(*peer))
                .arg(holder_of(&shared.node, *generation))
                .arg("NX")
                .ignore()
                .sadd(shared.keys.node_peers(&shared.node), index_entry(*peer))
                .ignore()
                .get(shared.keys.peer(*peer));
        }
        METRICS.redis_round_trips.inc();
        let holders: Vec<Option<String>> = pipe.query_async(&mut redis).await?;
        for ((peer, generation), holder) in batch.iter().zip(holders) {
            if holder.as_deref() != Some(holder_of(&shared.node, *generation).as_str()) {
                // A newer connection elsewhere took the address while this node could
                // not hear of it: this one gives way, as on a `Replaced` message.
                shared.local.replace(*peer, *generation);
            }
        }
    }
    Ok(())
}
