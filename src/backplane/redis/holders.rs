//! Where this node last found each pairing address held on another node, so that a draw
//! or relay message for a display elsewhere goes straight to its node instead of asking
//! Redis first (the `HOLDER` script) every time.
//!
//! The cache is only a guess, never trusted to be true: a delivery routed to the node
//! it names comes back `not_held` when that node no longer holds the address (the
//! display was replaced on a third node, or left), and back unheard of when the node is
//! gone (nobody subscribes to its channel). Either way the entry is dropped and the
//! address looked up once more in Redis before the delivery counts as offline, so a
//! stale entry costs one extra round trip, never a lost message. Entries of a node the
//! heartbeat finds dead, or that did not answer, are dropped as well.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::address::{Peer, PeerMap};

/// Most addresses remembered. Beyond it the cache starts again empty: an entry is only
/// a saved lookup, and a node talks to far fewer addresses elsewhere than this.
const CAPACITY: usize = 100_000;

/// Address → the node (its id) last found holding it. The ids are shared, so that a
/// delivery's lookup copies a pointer rather than a string.
#[derive(Default)]
pub struct Holders(Mutex<PeerMap<Arc<str>>>);

impl Holders {
    fn lock(&self) -> MutexGuard<'_, PeerMap<Arc<str>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The node last found holding `peer`.
    pub fn get(&self, peer: Peer) -> Option<Arc<str>> {
        self.lock().get(&peer).cloned()
    }

    /// Remembers that `node` holds `peer`.
    pub fn put(&self, peer: Peer, node: &str) {
        let mut holders = self.lock();
        if holders.get(&peer).is_some_and(|held| &**held == node) {
            return;
        }
        if holders.len() >= CAPACITY {
            holders.clear();
        }
        holders.insert(peer, node.into());
    }

    /// Forgets that `node` holds `peer` (if another node was learnt since, keeps that).
    pub fn forget(&self, peer: Peer, node: &str) {
        let mut holders = self.lock();
        if holders.get(&peer).is_some_and(|held| &**held == node) {
            holders.remove(&peer);
        }
    }

    /// Forgets `peer` whichever node was remembered (this node now holds it).
    pub fn forget_peer(&self, peer: Peer) {
        self.lock().remove(&peer);
    }

    /// Forgets every address of `node` (found dead).
    pub fn forget_node(&self, node: &str) {
        self.lock().retain(|_, held| &**held != node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u128) -> Peer {
        Peer::display(uuid::Uuid::from_u128(n).to_string().parse().unwrap())
    }

    #[test]
    fn an_entry_is_forgotten_only_for_the_node_it_names() {
        let holders = Holders::default();
        holders.put(peer(1), "a");
        holders.put(peer(2), "a");
        holders.put(peer(3), "b");
        holders.forget(peer(1), "b");
        assert_eq!(holders.get(peer(1)).as_deref(), Some("a"), "learnt a since");
        holders.forget(peer(1), "a");
        assert_eq!(holders.get(peer(1)), None);
        holders.forget_node("a");
        assert_eq!(holders.get(peer(2)), None);
        assert_eq!(holders.get(peer(3)).as_deref(), Some("b"));
        holders.forget_peer(peer(3));
        assert_eq!(holders.get(peer(3)), None);
    }
}
