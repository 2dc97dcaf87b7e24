//! Deliveries for connections on other nodes: published on the holder's channel, which
//! answers with the outcome on the sender's (unless the delivery waits for nothing).
//!
//! A delivery to a pairing address goes to the node this one last found holding it
//! ([`super::holders`]), with no lookup; only when there is no such node, or it answers
//! that it does not hold the address (any more), or nobody listens on its channel, is
//! the holder looked up in Redis, once. So a draw across nodes costs two publishes (the
//! delivery and its outcome), and under load fewer, since the couriers batch them.

use std::collections::HashMap;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;

use super::keys::{NodeMessage, Outgoing};
use super::{REDIS_TIMEOUT, RedisBackplane, pairs};
use crate::address::Peer;
use crate::backplane::{Outcome, Routed, Unavailable, Wait};
use crate::protocol::parcel::Parcel;

/// The routed deliveries awaiting their outcome, by request id. aHash: every cross-node
/// delivery inserts and removes one, and SipHash cost more than the rest of the map.
pub(super) type Pending = HashMap<u64, oneshot::Sender<Outcome>, ahash::RandomState>;

/// Delivers `parcel` to `peer` through the other node holding it; offline if none does.
pub async fn route_to_peer(
    backplane: &RedisBackplane,
    peer: Peer,
    parcel: Parcel,
    wait: Wait,
) -> Result<Outcome, Unavailable> {
    let routed = Routed::Peer { peer, parcel, wait };
    let holders = &backplane.0.holders;
    // A delivery that waits for nothing is never answered, so a node that no longer
    // holds the address could not say so: it always looks the holder up.
    if wait != Wait::Pushed {
        if let Some(node) = holders.get(peer) {
            match backplane.request(&node, &routed).await {
                // Moved or gone since: look again below (the delivery did not happen).
                Ok(Outcome::NotHeld) => holders.forget(peer, &node),
                Ok(outcome) => return Ok(outcome),
                Err(err) => {
                    // No answer: whether it arrived is unknown; the next one looks up.
                    holders.forget(peer, &node);
                    return Err(err);
                }
            }
        }
    }
    let Some(node) = pairs::locate(backplane, peer).await? else {
        return Ok(Outcome::Offline);
    };
    match backplane.request(&node.0, &routed).await {
        Ok(Outcome::NotHeld) => {
            holders.forget(peer, &node.0);
            Ok(Outcome::Offline)
        }
        Ok(outcome) => {
            holders.put(peer, &node.0);
            Ok(outcome)
        }
        Err(err) => Err(err),
    }
}

impl RedisBackplane {
    pub(super) fn pending(&self) -> MutexGuard<'_, Pending> {
        self.0.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes `routed` on `node`'s channel and waits for its outcome; a delivery that
    /// waits for nothing ([`Wait::Pushed`]) is only published, and counts as delivered
    /// once the node has it (request 0 is not answered). [`Outcome::NotHeld`] when
    /// nobody listens on the node's channel (the node is gone).
    pub(super) async fn request(&self, node: &str, routed: &Routed) -> Result<Outcome, Unavailable> {
        let channel = self.0.keys.node_channel(node);
        if let Routed::Peer { wait: Wait::Pushed, .. } = routed {
            let message = Outgoing::Route {
                req: 0,
                reply_to: "",
                routed,
            };
            let payload = serde_json::to_vec(&message).expect("node messages serialise");
            let published = self.post(&channel, payload).await?;
            return Ok(if published == 0 {
                Outcome::NotHeld
            } else {
                Outcome::Delivered
            });
        }
        let req = self.0.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending().insert(req, tx);
        let message = Outgoing::Route {
            req,
            reply_to: &self.0.node,
            routed,
        };
        let payload = serde_json::to_vec(&message).expect("node messages serialise");
        let outcome = match self.post(&channel, payload).await {
            // Nobody listens on that channel: the node is gone.
            Ok(0) => Ok(Outcome::NotHeld),
            Ok(_) => {
                let longest = self.0.patience + self.0.write_timeout + REDIS_TIMEOUT;
                match tokio::time::timeout(longest, rx).await {
                    Ok(Ok(outcome)) => Ok(outcome),
                    // No answer: the other node died, or its answer was lost. Whether the
                    // message arrived is unknown, so it is not reported as offline (which
                    // would have it held and sent again).
                    _ => Err(Unavailable(format!("node {node} did not answer"))),
                }
            }
            Err(err) => Err(err),
        };
        self.pending().remove(&req);
        outcome
    }

    /// Tells `reply_to` the outcome of its request `req` (in the next batch for it).
    pub(super) async fn answer(&self, reply_to: &str, req: u64, outcome: Outcome) {
        let payload = serde_json::to_vec(&NodeMessage::Outcome { req, outcome }).expect("node messages serialise");
        self.post_and_forget(&self.0.keys.node_channel(reply_to), payload).await;
    }
}
