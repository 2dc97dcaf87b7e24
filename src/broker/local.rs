//! The in-process broker: a map from pairing address to the live connection's outbox.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::ws::Message;

use super::codes::{Codes, IssuedCode};
use super::groups::LocalGroups;
use super::{
    Broker, CatalogChange, Census, Generation, Group, Joining, Peer, Publication, REPLACED, RoomPolicy, SendError,
    Unavailable,
};
use crate::protocol::pairing::PairingCode;
use crate::protocol::{ClientId, DeviceId, Role};
use crate::session::close_frame;
use crate::session::outbox::{Outbox, PushError};

/// Every connection of this process, by address. The lock is held only for a map
/// operation and a queue push, never across an `.await`.
#[derive(Debug)]
pub struct LocalBroker {
    pairs: Mutex<Pairs>,
    next_generation: AtomicU64,
    /// How long a message may wait for room in a full queue (`--slow-consumer-timeout`).
    patience: Duration,
    groups: LocalGroups,
}

/// The pairing space: who holds each address, and the codes standing for displays. One
/// lock for both, so that a code is never issued for a display that just left.
#[derive(Debug, Default)]
struct Pairs {
    slots: HashMap<Peer, Slot>,
    codes: Codes,
}

#[derive(Debug)]
struct Slot {
    generation: Generation,
    outbox: Outbox,
}

impl LocalBroker {
    pub fn new(patience: Duration, rooms: RoomPolicy) -> Self {
        Self {
            pairs: Mutex::default(),
            next_generation: AtomicU64::new(0),
            patience,
            groups: LocalGroups::new(rooms),
        }
    }

    fn pairs(&self) -> MutexGuard<'_, Pairs> {
        self.pairs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connection holding `to`, taken out of the map so no lock is held while waiting on it.
    fn route(&self, to: Peer) -> Result<(Generation, Outbox), SendError> {
        let pairs = self.pairs();
        let slot = pairs.slots.get(&to).ok_or(SendError::Offline)?;
        Ok((slot.generation, slot.outbox.clone()))
    }

    /// A generation for a connection about to attach (the Redis broker registers it
    /// across nodes first).
    pub fn reserve_generation(&self) -> Generation {
        Generation(self.next_generation.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers `outbox` for `peer` under `generation`; an older connection here is
    /// closed with 4001. A newer generation already here is kept (two attaches raced).
    pub fn attach_as(&self, peer: Peer, outbox: Outbox, generation: Generation) {
        let mut pairs = self.pairs();
        if let Some(current) = pairs.slots.get(&peer) {
            if current.generation > generation {
                outbox.close(close_frame(REPLACED.0, REPLACED.1));
                return;
            }
        }
        let previous = pairs.slots.insert(peer, Slot { generation, outbox });
        drop(pairs);
        if let Some(previous) = previous {
            tracing::debug!(%peer, "a new connection replaces the old one");
            previous.outbox.close(close_frame(REPLACED.0, REPLACED.1));
        }
    }

    /// Closes the connection holding `peer` with 4001 if it is still `generation` (a newer
    /// connection took its place on another node).
    pub fn replace(&self, peer: Peer, generation: Generation) {
        let mut pairs = self.pairs();
        if pairs.slots.get(&peer).is_some_and(|slot| slot.generation == generation) {
            let slot = pairs.slots.remove(&peer).expect("just seen");
            tracing::debug!(%peer, "a newer connection on another node replaces this one");
            slot.outbox.close(close_frame(REPLACED.0, REPLACED.1));
        }
    }

    /// Every address held here, with its generation.
    pub fn held(&self) -> Vec<(Peer, Generation)> {
        self.pairs()
            .slots
            .iter()
            .map(|(peer, slot)| (*peer, slot.generation))
            .collect()
    }

    async fn outcome(&self, to: Peer, generation: Generation, result: Result<(), PushError>) -> Result<(), SendError> {
        match result {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                // The outbox has closed the connection; free the address right away so a
                // reconnecting client is not refused while the old task winds down.
                self.detach(to, generation).await;
                Err(SendError::SlowConsumer)
            }
            Err(PushError::Closed) => Err(SendError::Offline),
        }
    }
}

#[async_trait]
impl Broker for LocalBroker {
    async fn attach(&self, peer: Peer, outbox: Outbox) -> Result<Generation, Unavailable> {
        let generation = self.reserve_generation();
        self.attach_as(peer, outbox, generation);
        Ok(generation)
    }

    async fn detach(&self, peer: Peer, generation: Generation) {
        let mut pairs = self.pairs();
        if pairs.slots.get(&peer).is_some_and(|slot| slot.generation == generation) {
            pairs.slots.remove(&peer);
            if peer.role == Role::Display {
                pairs.codes.revoke(peer.device);
            }
        }
    }

    async fn is_online(&self, peer: Peer) -> Result<bool, Unavailable> {
        Ok(self.pairs().slots.contains_key(&peer))
    }

    async fn send(&self, to: Peer, message: Message) -> Result<(), SendError> {
        let (generation, outbox) = self.route(to)?;
        let result = outbox.deliver(message, self.patience).await;
        self.outcome(to, generation, result).await
    }

    async fn post(&self, to: Peer, message: Message) -> Result<(), SendError> {
        let (generation, outbox) = self.route(to)?;
        let result = outbox.post(message, self.patience).await;
        self.outcome(to, generation, result).await
    }

    async fn pairing_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, SendError> {
        let mut pairs = self.pairs();
        if !pairs.slots.contains_key(&Peer::display(device)) {
            return Err(SendError::Offline);
        }
        Ok(pairs.codes.issue(device, ttl))
    }

    async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
        Ok(self.pairs().codes.resolve(code))
    }

    async fn join(&self, group: &Group, joining: Joining) -> Result<(), Unavailable> {
        self.groups.join(group, joining);
        Ok(())
    }

    async fn leave(&self, group: &Group, id: ClientId, notice: Option<Message>) {
        self.groups.leave(group, id, notice);
    }

    async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable> {
        Ok(self.groups.publish(group, publication))
    }

    async fn send_to_member(&self, group: &Group, to: ClientId, message: Message) -> Result<(), SendError> {
        self.groups.send_to(group, to, message)
    }

    async fn readiness(&self) -> Result<(), Unavailable> {
        Ok(())
    }

    /// One process: its catalogue was already changed by the write itself.
    async fn catalog_changed(&self, _change: CatalogChange) {}

    async fn census(&self) -> Census {
        let (displays, controllers) = {
            let pairs = self.pairs();
            let displays = pairs.slots.keys().filter(|peer| peer.role == Role::Display).count();
            (displays, pairs.slots.len() - displays)
        };
        Census {
            displays,
            controllers,
            ..self.groups.census()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ws::Utf8Bytes;

    use super::*;
    use crate::session::outbox::{Outgoing, outbox};

    fn peer() -> Peer {
        Peer::display(DeviceId::new(uuid::Uuid::from_u128(1)))
    }

    fn text(s: &'static str) -> Message {
        Message::Text(Utf8Bytes::from_static(s))
    }

    #[tokio::test]
    async fn routes_to_the_attached_connection() {
        let broker = LocalBroker::new(Duration::from_millis(50), RoomPolicy::default());
        assert_eq!(broker.send(peer(), text("x")).await, Err(SendError::Offline));
        let (outbox, mut inbox) = outbox(8);
        broker.attach(peer(), outbox).await.unwrap();
        assert!(broker.is_online(peer()).await.unwrap());
        let sending = tokio::spawn(async move { broker.send(peer(), text("hello")).await });
        let Outgoing::Message(message, Some(receipt)) = inbox.next().await else {
            panic!("a receipted message")
        };
        assert_eq!(message, text("hello"));
        receipt.confirm();
        sending.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_replaced_connection_is_closed_and_its_cleanup_keeps_the_new_one() {
        let broker = LocalBroker::new(Duration::from_millis(50), RoomPolicy::default());
        let (old, mut old_inbox) = outbox(8);
        let old_generation = broker.attach(peer(), old).await.unwrap();
        let (new, mut new_inbox) = outbox(8);
        broker.attach(peer(), new).await.unwrap();

        match old_inbox.next().await {
            Outgoing::Close(frame) => assert_eq!((frame.code, frame.reason.as_str()), (4001, "replaced")),
            other => panic!("expected a close, got {other:?}"),
        }
        broker.detach(peer(), old_generation).await;
        assert!(
            broker.is_online(peer()).await.unwrap(),
            "old clean-up unregistered the new connection"
        );
        let reader = async {
            let Outgoing::Message(message, Some(receipt)) = new_inbox.next().await else {
                panic!("a message")
            };
            receipt.confirm();
            message
        };
        let (sent, message) = tokio::join!(broker.send(peer(), text("to new")), reader);
        assert_eq!((sent, message), (Ok(()), text("to new")));
    }

    #[tokio::test]
    async fn the_census_counts_displays_and_controllers_apart() {
        let broker = LocalBroker::new(Duration::from_millis(50), RoomPolicy::default());
        let device = DeviceId::new(uuid::Uuid::from_u128(2));
        let (display, _display_inbox) = outbox(8);
        let (controller, _controller_inbox) = outbox(8);
        broker.attach(Peer::display(device), display).await.unwrap();
        broker.attach(peer(), outbox(8).0).await.unwrap();
        broker.attach(Peer::controller(device), controller).await.unwrap();
        let census = broker.census().await;
        assert_eq!((census.displays, census.controllers), (2, 1));
    }

    #[tokio::test]
    async fn a_slow_consumer_is_dropped_from_the_map() {
        let broker = LocalBroker::new(Duration::from_millis(50), RoomPolicy::default());
        let (outbox, _inbox) = outbox(1);
        outbox.push(text("1")).unwrap();
        broker.attach(peer(), outbox).await.unwrap();
        assert_eq!(broker.send(peer(), text("2")).await, Err(SendError::SlowConsumer));
        assert!(!broker.is_online(peer()).await.unwrap());
    }
}
