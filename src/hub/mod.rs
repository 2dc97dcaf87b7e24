//! The hub: the only code that knows this node's connections. It keeps the pair registry
//! (who holds each display and controller address, with generations and replacement),
//! the members of each group, and does every delivery into a connection's outbox:
//! draws, relay data and presence for pairs, fan-out, welcomes and replay for groups.
//!
//! Whatever must agree across nodes goes through the [`Backplane`]: a server alone uses
//! [`crate::backplane::solo::Solo`], a cluster the Redis backplane. The hub's rules are
//! the same with either (Centrifugo's hub and broker are split the same way).

mod groups;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::address::{Generation, Group, Peer, PeerMap};
use crate::backplane::codes::IssuedCode;
use crate::backplane::{Backplane, Envelope, Inbound, Outcome, Registrations, Routed, Unavailable, Wait};
use crate::lifecycle::Tasks;
use crate::protocol::pairing::PairingCode;
use crate::protocol::parcel::Parcel;
use crate::protocol::{DeviceId, Role, Version, close};
use crate::session::close_frame;
use crate::session::outbox::{Outbox, PushError};
pub use groups::{Joining, Roster, Welcome};

/// Why a message did not reach its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no connection holds that address")]
    Offline,
    /// The receiver stopped reading; it has been closed under the slow-consumer policy.
    #[error("the receiver was not reading and has been disconnected")]
    SlowConsumer,
    /// The shared state between nodes (Redis) cannot be reached right now.
    #[error("the scale-out broker is unavailable")]
    Unavailable,
}

impl From<Unavailable> for SendError {
    fn from(_: Unavailable) -> Self {
        SendError::Unavailable
    }
}

impl From<Outcome> for Result<(), SendError> {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered => Ok(()),
            Outcome::Offline | Outcome::NotHeld => Err(SendError::Offline),
            Outcome::SlowConsumer => Err(SendError::SlowConsumer),
        }
    }
}

/// This node's connections, shared as `Arc<Hub>`.
pub struct Hub {
    backplane: Arc<dyn Backplane>,
    /// The pair registry: the connection holding each address here. Its lock is held
    /// only for a map operation and a queue push, never across an `.await`.
    pairs: Mutex<PeerMap<Slot>>,
    next_generation: AtomicU64,
    groups: groups::Groups,
    /// How long a message may wait for room in a full queue (`--slow-consumer-timeout`).
    patience: Duration,
    /// Displays attaching on other nodes, for held delivery.
    attached: broadcast::Sender<DeviceId>,
}

#[derive(Debug)]
struct Slot {
    generation: Generation,
    outbox: Outbox,
    version: Version,
    /// What the connection was last told of its counterpart (its welcome's `peer`, then
    /// each presence event), so that presence can be put right after a notice was lost.
    counterpart_told: bool,
}

/// Who is connected here: the counts of `GET /api/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Census {
    /// Pairing UUIDs with a display connected.
    pub displays: usize,
    /// Pairing UUIDs with a controller connected.
    pub controllers: usize,
    /// Chat rooms with at least one member (empty rooms kept for recovery are not counted).
    pub rooms: usize,
    /// Members of all chat rooms.
    pub room_members: usize,
    /// Signaling rooms with at least one peer.
    pub signal_rooms: usize,
    /// Peers of all signaling rooms.
    pub signal_peers: usize,
    /// Clients of the chat hub, `/ws`.
    pub hub_clients: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // What a panicking holder left is still a consistent map of queues: keep going.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    /// A hub in front of `backplane`, which it starts on `tasks`.
    pub fn new(backplane: Arc<dyn Backplane>, patience: Duration, tasks: &Tasks) -> Arc<Self> {
        let hub = Arc::new(Self {
            backplane,
            pairs: Mutex::default(),
            next_generation: AtomicU64::new(0),
            groups: groups::Groups::default(),
            patience,
            attached: broadcast::channel(1024).0,
        });
        let inbound: Weak<dyn Inbound> = Arc::downgrade(&hub) as Weak<dyn Inbound>;
        hub.backplane.start(inbound, tasks);
        hub
    }

    pub fn backplane(&self) -> &dyn Backplane {
        self.backplane.as_ref()
    }

    /// Registers `outbox` as the connection holding `peer`, speaking `version`. A
    /// connection already holding it is closed with 4001 `replaced` after what was
    /// queued for it, here or on another node; the counterpart is told (presence).
    pub async fn attach(&self, peer: Peer, outbox: Outbox, version: Version) -> Result<Generation, Unavailable> {
        let generation = Generation(self.next_generation.fetch_add(1, Ordering::Relaxed));
        // The backplane first: if that fails, a connection already holding the address
        // here is left alone (a same-node pair keeps working without Redis).
        self.backplane.claim(peer, generation).await?;
        let previous = {
            let mut pairs = lock(&self.pairs);
            if pairs.get(&peer).is_some_and(|slot| slot.generation > generation) {
                // A newer attach of this node won the race.
                outbox.close(close_frame(close::REPLACED));
                return Ok(generation);
            }
            let slot = Slot {
                generation,
                outbox,
                version,
                counterpart_told: false,
            };
            pairs.insert(peer, slot)
        };
        if let Some(previous) = previous {
            tracing::debug!(%peer, "a new connection replaces the old one");
            previous.outbox.close(close_frame(close::REPLACED));
        }
        if peer.role == Role::Display {
            self.backplane.announce_display(peer.device).await;
        }
        self.tell_counterpart(peer, true).await;
        Ok(generation)
    }

    /// Unregisters `peer` if `generation` still holds it here; otherwise does nothing.
    /// The counterpart learns that it went.
    pub async fn detach(&self, peer: Peer, generation: Generation) {
        let removed = {
            let mut pairs = lock(&self.pairs);
            let held = pairs.get(&peer).is_some_and(|slot| slot.generation == generation);
            held && pairs.remove(&peer).is_some()
        };
        if !removed {
            return;
        }
        match self.backplane.release(peer, generation).await {
            Ok(true) => self.tell_counterpart(peer, false).await,
            // A newer connection elsewhere holds it: that one was announced.
            Ok(false) => {}
            Err(err) => {
                // The node's periodic repair lets go of it later.
                tracing::debug!(%err, "could not release an address in the backplane");
                self.tell_counterpart(peer, false).await;
            }
        }
    }

    /// Presence: tells the other side of `peer`'s pair that `peer` connected or went.
    async fn tell_counterpart(&self, peer: Peer, connected: bool) {
        let parcel = Parcel::Presence {
            role: peer.role,
            connected,
        };
        // Nobody there, or not reachable: nobody to tell.
        let _ = self.deliver(peer.counterpart(), parcel, Wait::Pushed).await;
    }

    /// Whether `peer`'s counterpart is connected, for the welcome of the connection that
    /// holds `peer` as `generation`; remembered as what that connection was told.
    pub async fn counterpart_online(&self, peer: Peer, generation: Generation) -> bool {
        let online = self.is_online(peer.counterpart()).await.unwrap_or(false);
        if let Some(slot) = lock(&self.pairs).get_mut(&peer) {
            if slot.generation == generation {
                slot.counterpart_told = online;
            }
        }
        online
    }

    /// Tells each connection here whose idea of its counterpart is out of date (a presence
    /// notice was lost while the backplane was away) what is true now.
    pub async fn recheck_presence(&self) {
        let told: Vec<(Peer, bool)> = lock(&self.pairs)
            .iter()
            .filter(|(_, slot)| slot.version == Version::V2)
            .map(|(peer, slot)| (*peer, slot.counterpart_told))
            .collect();
        let checks = told.into_iter().map(|(peer, told)| async move {
            match self.is_online(peer.counterpart()).await {
                Ok(online) if online != told => {
                    let parcel = Parcel::Presence {
                        role: peer.counterpart().role,
                        connected: online,
                    };
                    let _ = self.deliver_here(peer, &parcel, Wait::Pushed).await;
                }
                _ => {}
            }
        });
        futures_util::future::join_all(checks).await;
    }

    /// Whether a connection holds `peer` right now, on any node.
    pub async fn is_online(&self, peer: Peer) -> Result<bool, Unavailable> {
        if lock(&self.pairs).contains_key(&peer) {
            return Ok(true);
        }
        Ok(self.backplane.locate(peer).await?.is_some())
    }

    /// Delivers `parcel` to the connection holding `to`, wherever it is, written in the
    /// protocol version it speaks; returns once `wait` is satisfied, or why it was not.
    pub async fn deliver(&self, to: Peer, parcel: Parcel, wait: Wait) -> Result<(), SendError> {
        if let Some(result) = self.deliver_here(to, &parcel, wait).await {
            return result;
        }
        self.backplane.route_to_peer(to, parcel, wait).await?.into()
    }

    /// Delivers to the connection holding `to` on this node; `None` if none does.
    async fn deliver_here(&self, to: Peer, parcel: &Parcel, wait: Wait) -> Option<Result<(), SendError>> {
        if let Parcel::Presence { connected: false, .. } = parcel {
            // Presence notices from two nodes can cross: "gone" is told only if it is
            // still true, and a reconnection's "connected" always follows it.
            if !lock(&self.pairs).contains_key(&to) {
                return None;
            }
            if self.is_online(to.counterpart()).await.unwrap_or(false) {
                return Some(Ok(()));
            }
        }
        let (generation, outbox, message) = {
            let mut pairs = lock(&self.pairs);
            let slot = pairs.get_mut(&to)?;
            // This version has no such message: nothing to write, and nothing lost.
            let Some(message) = parcel.encode(slot.version) else {
                return Some(Ok(()));
            };
            if let Parcel::Presence { connected, .. } = parcel {
                slot.counterpart_told = *connected;
            }
            if wait == Wait::Pushed {
                return Some(slot.outbox.push(message).map_err(push_error));
            }
            (slot.generation, slot.outbox.clone(), message)
        };
        // Taken out of the map, so no lock is held while waiting on the connection.
        let result = match wait {
            Wait::Written => outbox.deliver(message, self.patience).await,
            _ => outbox.enqueue(message, self.patience).await,
        };
        Some(match result {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                // The outbox has closed the connection; free the address right away so a
                // reconnecting client is not refused while the old task winds down.
                Box::pin(self.detach(to, generation)).await;
                Err(SendError::SlowConsumer)
            }
            Err(PushError::Closed) => Err(SendError::Offline),
        })
    }

    /// The live pairing code of the display of `device`, or a new one valid for `ttl`.
    /// [`SendError::Offline`] when no display holds `device`. A code ends when its
    /// display disconnects.
    pub async fn pairing_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, SendError> {
        if !self.is_online(Peer::display(device)).await? {
            return Err(SendError::Offline);
        }
        Ok(self.backplane.issue_code(device, ttl).await?)
    }

    /// The UUID a live pairing code stands for, while its display is connected.
    pub async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
        let Some(device) = self.backplane.resolve_code(code).await? else {
            return Ok(None);
        };
        // A code ends with its display, also when the display's node died unannounced.
        Ok(self.is_online(Peer::display(device)).await?.then_some(device))
    }

    /// Displays attaching on other nodes: held delivery on the controller's node listens,
    /// to hand over what it holds.
    pub fn displays_attached(&self) -> broadcast::Receiver<DeviceId> {
        self.attached.subscribe()
    }

    /// Counts the connections and groups this node holds.
    pub fn census(&self) -> Census {
        let (displays, controllers) = {
            let pairs = lock(&self.pairs);
            let displays = pairs.keys().filter(|peer| peer.role == Role::Display).count();
            (displays, pairs.len() - displays)
        };
        Census {
            displays,
            controllers,
            ..self.groups.census()
        }
    }

    /// Closes the connection holding `peer` with 4001 if it is still `generation`.
    fn replace(&self, peer: Peer, generation: Generation) {
        let mut pairs = lock(&self.pairs);
        if pairs.get(&peer).is_some_and(|slot| slot.generation == generation) {
            let slot = pairs.remove(&peer).expect("just seen");
            tracing::debug!(%peer, "a newer connection on another node replaces this one");
            slot.outbox.close(close_frame(close::REPLACED));
        }
    }
}

fn push_error(err: PushError) -> SendError {
    match err {
        PushError::Full => SendError::SlowConsumer,
        PushError::Closed => SendError::Offline,
    }
}

fn outcome(result: Result<(), SendError>) -> Outcome {
    match result {
        Ok(()) => Outcome::Delivered,
        Err(SendError::SlowConsumer) => Outcome::SlowConsumer,
        Err(_) => Outcome::Offline,
    }
}

#[async_trait]
impl Inbound for Hub {
    fn envelope(&self, group: &Group, envelope: Envelope) {
        self.groups.envelope(group, envelope);
    }

    async fn routed(&self, routed: Routed) -> Outcome {
        match routed {
            // Not here (any more): the sender looks for the holder again.
            Routed::Peer { peer, parcel, wait } => match self.deliver_here(peer, &parcel, wait).await {
                Some(result) => outcome(result),
                None => Outcome::NotHeld,
            },
            Routed::Member { group, id, frame } => match Group::from_name(&group) {
                Some(group) => outcome(
                    self.groups
                        .push_to(&group, id, frame.into())
                        .unwrap_or(Err(SendError::Offline)),
                ),
                None => Outcome::Offline,
            },
        }
    }

    fn replaced(&self, peer: Peer, generation: Generation) {
        self.replace(peer, generation);
    }

    async fn peer_lost(&self, peer: Peer) {
        self.tell_counterpart(peer, false).await;
    }

    async fn presence_doubtful(&self) {
        self.recheck_presence().await;
    }

    fn display_attached(&self, device: DeviceId) {
        let _ = self.attached.send(device);
    }

    fn members_missed(&self) {
        self.groups.close_all(close::SERVICE_RESTART);
    }

    fn registrations(&self) -> Registrations {
        // Taken first: connections attaching from now on are not in the list.
        let watermark = Generation(self.next_generation.fetch_add(1, Ordering::Relaxed));
        let peers = lock(&self.pairs)
            .iter()
            .map(|(peer, slot)| (*peer, slot.generation))
            .collect();
        Registrations {
            peers,
            members: self.groups.cards(),
            watermark,
        }
    }
}

#[cfg(test)]
mod tests;
