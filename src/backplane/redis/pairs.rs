//! Pairing addresses across nodes: who holds `(uuid, role)` (`peer:{role}:{uuid}` →
//! `{node}/{generation}`), replacement across nodes, pairing codes, and putting this
//! node's addresses back after Redis lost them.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::keys::NodeMessage;
use super::{RedisBackplane, scripts, unavailable};
use crate::address::{Generation, Peer};
use crate::backplane::codes::IssuedCode;
use crate::backplane::guesses::{Attempt, client_key};
use crate::backplane::{Inbound, NodeId, Registrations, Unavailable};
use crate::metrics::METRICS;
use crate::protocol::pairing::PairingCode;
use crate::protocol::{DeviceId, Role};

/// `{node}/{generation}`: the value of a pairing address's key.
fn holder_of(node: &str, generation: Generation) -> String {
    format!("{node}/{}", generation.0)
}

/// The generation of `node`'s connection named by `holder`, if `holder` is of `node`.
pub fn generation_of(node: &str, holder: &str) -> Option<Generation> {
    let generation = holder.strip_prefix(node)?.strip_prefix('/')?;
    generation.parse().ok().map(Generation)
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

/// Removes `peer`'s key if `node` still holds it with a generation below `below`, with a
/// display's pairing code; returns whether it did. For a connection ending, the janitor
/// (a dead node) and repairs (a release that failed).
pub async fn release(backplane: &RedisBackplane, node: &str, peer: Peer, below: u64) -> redis::RedisResult<bool> {
    let keys = &backplane.0.keys;
    let code_of = match peer.role {
        Role::Display => keys.code_of(&peer.device.to_string()),
        Role::Controller => String::new(),
    };
    METRICS.redis_round_trips.inc();
    let released: i64 = scripts::FORGET
        .key(keys.peer(peer))
        .key(keys.node_peers(node))
        .key(code_of)
        .arg(node)
        .arg(index_entry(peer))
        .arg(keys.code(""))
        .arg(below)
        .invoke_async(&mut backplane.redis())
        .await?;
    Ok(released == 1)
}

pub async fn claim(backplane: &RedisBackplane, peer: Peer, generation: Generation) -> Result<(), Unavailable> {
    let shared = &backplane.0;
    // Held here from now on: no delivery for it is routed elsewhere.
    shared.holders.forget_peer(peer);
    let holder = holder_of(&shared.node, generation);
    METRICS.redis_round_trips.inc();
    let previous: Result<String, _> = scripts::ATTACH
        .key(shared.keys.peer(peer))
        .key(shared.keys.node_peers(&shared.node))
        .arg(&holder)
        .arg(index_entry(peer))
        .arg(&shared.node)
        .arg(generation.0)
        .invoke_async(&mut backplane.redis())
        .await;
    let previous = match previous {
        Ok(previous) => previous,
        Err(err) => {
            // The script may have run before its answer was lost: undo it if so.
            let (backplane, node) = (backplane.clone(), shared.node.clone());
            backplane.clone().spawn(async move {
                let _ = release(&backplane, &node, peer, generation.0 + 1).await;
            });
            return Err(unavailable(err));
        }
    };
    if let Some((node, _)) = previous.split_once('/') {
        if node != shared.node {
            // The older connection is on another node: it closes it with 4001.
            let replaced = NodeMessage::Replaced {
                peer,
                holder: previous.clone(),
            };
            let payload = serde_json::to_vec(&replaced).expect("node messages serialise");
            let _ = backplane.publish_raw(&shared.keys.node_channel(node), &payload).await;
        }
    }
    Ok(())
}

/// The other node holding `peer`, if that node is alive.
pub async fn locate(backplane: &RedisBackplane, peer: Peer) -> Result<Option<NodeId>, Unavailable> {
    let shared = &backplane.0;
    METRICS.redis_round_trips.inc();
    let holder: String = scripts::HOLDER
        .key(shared.keys.peer(peer))
        .arg(shared.keys.alive(""))
        .invoke_async(&mut backplane.redis())
        .await
        .map_err(unavailable)?;
    Ok(holder
        .split_once('/')
        // Held here a moment ago and gone since: the hub looked here first.
        .filter(|(node, _)| *node != shared.node)
        .map(|(node, _)| NodeId(node.to_owned())))
}

pub async fn issue_code(
    backplane: &RedisBackplane,
    device: DeviceId,
    ttl: Duration,
) -> Result<IssuedCode, Unavailable> {
    let shared = &backplane.0;
    let uuid = device.to_string();
    let mut redis = backplane.redis();
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
            .map_err(unavailable)?;
        let Some((code, left_ms)) = issued else { continue };
        let code = code
            .parse()
            .map_err(|_| Unavailable(format!("Redis holds an unreadable code {code:?}")))?;
        return Ok(IssuedCode {
            code,
            device,
            expires_at: SystemTime::now() + Duration::from_millis(left_ms.max(0) as u64),
        });
    }
}

pub async fn resolve_code(backplane: &RedisBackplane, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
    METRICS.redis_round_trips.inc();
    let uuid: Option<String> = redis::cmd("GET")
        .arg(backplane.0.keys.code(code.as_str()))
        .query_async(&mut backplane.redis())
        .await
        .map_err(unavailable)?;
    Ok(uuid.and_then(|uuid| uuid.parse::<DeviceId>().ok()))
}

/// Takes a lookup from `client`'s budget of misses, shared by every node.
pub async fn attempt_guess(
    backplane: &RedisBackplane,
    client: IpAddr,
) -> Result<Result<Attempt, Duration>, Unavailable> {
    let key = client_key(client);
    let limit = backplane.0.guesses;
    METRICS.redis_round_trips.inc();
    let (taken, left_ms): (i64, i64) = scripts::ATTEMPT_GUESS
        .key(backplane.0.keys.guesses(key))
        .arg(limit.misses)
        .arg(limit.window.as_millis() as u64)
        .invoke_async(&mut backplane.redis())
        .await
        .map_err(unavailable)?;
    Ok(if taken == 1 {
        Ok(Attempt::counted_for(key))
    } else {
        Err(Duration::from_millis(left_ms.max(0) as u64))
    })
}

pub async fn give_back_guess(backplane: &RedisBackplane, attempt: Attempt) {
    METRICS.redis_round_trips.inc();
    let given: redis::RedisResult<i64> = scripts::GIVE_BACK_GUESS
        .key(backplane.0.keys.guesses(attempt.key))
        .invoke_async(&mut backplane.redis())
        .await;
    if let Err(err) = given {
        tracing::debug!(%err, "could not give a pairing-code lookup back");
    }
}

/// Makes Redis agree with this node: puts its addresses back (after Redis lost them),
/// closes those a newer connection elsewhere took meanwhile, and lets go of those whose
/// connections ended while Redis was unreachable. Run after a reconnection and every few
/// heartbeats.
pub async fn reregister(
    backplane: &RedisBackplane,
    inbound: &dyn Inbound,
    registrations: &Registrations,
) -> redis::RedisResult<()> {
    let shared = &backplane.0;
    let held = &registrations.peers;
    let registered: Vec<String> = redis::cmd("SMEMBERS")
        .arg(shared.keys.node_peers(&shared.node))
        .query_async(&mut backplane.redis())
        .await?;
    for entry in registered {
        let Some(peer) = parse_index_entry(&entry) else {
            continue;
        };
        if !held.iter().any(|(held, _)| *held == peer) {
            // Connections attaching after the list was taken are above the watermark.
            release(backplane, &shared.node, peer, registrations.watermark.0).await?;
        }
    }
    let mut redis = backplane.redis();
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
                inbound.replaced(*peer, *generation);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_names_its_node_and_generation() {
        assert_eq!(generation_of("abc", "abc/7"), Some(Generation(7)));
        assert_eq!(generation_of("abc", "abcd/7"), None);
        assert_eq!(generation_of("abc", "xyz/7"), None);
        assert_eq!(generation_of("abc", "abc/x"), None);
        let peer = Peer::controller("de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap());
        assert_eq!(parse_index_entry(&index_entry(peer)), Some(peer));
    }
}
