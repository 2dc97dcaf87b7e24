//! The in-process broker: a map from pairing address to the live connection's outbox.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use axum::extract::ws::Message;

use super::{Broker, Generation, Peer, REPLACED, SendError};
use crate::session::close_frame;
use crate::session::outbox::{Outbox, PushError};

/// Every connection of this process, by address. The lock is held only for a map
/// operation and a queue push, never across an `.await`.
#[derive(Debug, Default)]
pub struct LocalBroker {
    slots: Mutex<HashMap<Peer, Slot>>,
    next_generation: AtomicU64,
}

#[derive(Debug)]
struct Slot {
    generation: Generation,
    outbox: Outbox,
}

impl LocalBroker {
    pub fn new() -> Self {
        Self::default()
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<Peer, Slot>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many connections are registered (displays and controllers).
    pub fn len(&self) -> usize {
        self.slots().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Broker for LocalBroker {
    async fn attach(&self, peer: Peer, outbox: Outbox) -> Generation {
        let generation = Generation(self.next_generation.fetch_add(1, Ordering::Relaxed));
        let previous = self.slots().insert(peer, Slot { generation, outbox });
        if let Some(previous) = previous {
            tracing::debug!(%peer, "a new connection replaces the old one");
            previous.outbox.close(close_frame(REPLACED.0, REPLACED.1));
        }
        generation
    }

    async fn detach(&self, peer: Peer, generation: Generation) {
        let mut slots = self.slots();
        if slots.get(&peer).is_some_and(|slot| slot.generation == generation) {
            slots.remove(&peer);
        }
    }

    async fn is_online(&self, peer: Peer) -> bool {
        self.slots().contains_key(&peer)
    }

    async fn send(&self, to: Peer, message: Message) -> Result<(), SendError> {
        let mut slots = self.slots();
        let slot = slots.get(&to).ok_or(SendError::Offline)?;
        match slot.outbox.push(message) {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                // The outbox has closed the connection; free the address right away so a
                // reconnecting client is not refused while the old task winds down.
                slots.remove(&to);
                Err(SendError::SlowConsumer)
            }
            Err(PushError::Closed) => Err(SendError::Offline),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ws::Utf8Bytes;

    use super::*;
    use crate::protocol::DeviceId;
    use crate::session::outbox::{Outgoing, outbox};

    fn peer() -> Peer {
        Peer::display(DeviceId::new(uuid::Uuid::from_u128(1)))
    }

    fn text(s: &'static str) -> Message {
        Message::Text(Utf8Bytes::from_static(s))
    }

    #[tokio::test]
    async fn routes_to_the_attached_connection() {
        let broker = LocalBroker::new();
        assert_eq!(broker.send(peer(), text("x")).await, Err(SendError::Offline));
        let (outbox, mut inbox) = outbox(8);
        broker.attach(peer(), outbox).await;
        assert!(broker.is_online(peer()).await);
        broker.send(peer(), text("hello")).await.unwrap();
        assert_eq!(inbox.next().await, Outgoing::Message(text("hello")));
    }

    #[tokio::test]
    async fn a_replaced_connection_is_closed_and_its_cleanup_keeps_the_new_one() {
        let broker = LocalBroker::new();
        let (old, mut old_inbox) = outbox(8);
        let old_generation = broker.attach(peer(), old).await;
        let (new, mut new_inbox) = outbox(8);
        broker.attach(peer(), new).await;

        match old_inbox.next().await {
            Outgoing::Close(frame) => assert_eq!((frame.code, frame.reason.as_str()), (4001, "replaced")),
            other => panic!("expected a close, got {other:?}"),
        }
        broker.detach(peer(), old_generation).await;
        assert!(
            broker.is_online(peer()).await,
            "old clean-up unregistered the new connection"
        );
        broker.send(peer(), text("to new")).await.unwrap();
        assert_eq!(new_inbox.next().await, Outgoing::Message(text("to new")));
    }

    #[tokio::test]
    async fn a_slow_consumer_is_dropped_from_the_map() {
        let broker = LocalBroker::new();
        let (outbox, _inbox) = outbox(1);
        broker.attach(peer(), outbox).await;
        broker.send(peer(), text("1")).await.unwrap();
        assert_eq!(broker.send(peer(), text("2")).await, Err(SendError::SlowConsumer));
        assert!(!broker.is_online(peer()).await);
    }
}
