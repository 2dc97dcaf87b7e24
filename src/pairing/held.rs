//! Held delivery (opt-in with `--hold-for`): a draw for a display that is offline waits,
//! in order, for a display with that UUID to come back.
//!
//! A headset taken off sleeps and drops its connection; with holding on, the controller's
//! messages in the meantime are answered `queued` and delivered when the display
//! reconnects, or answered `expired` / `queue_full` on the controller's connection. A lock
//! per UUID orders "send or hold" against "display attaches and takes what was held", so
//! nothing is delivered twice or out of order, and one slow display (on another node,
//! say) never holds up another UUID's draws.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex as SyncMutex, MutexGuard as SyncGuard};
use std::time::Duration;

use axum::extract::ws::Message;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::broker::{Broker, Peer, SendError};
use crate::metrics::METRICS;
use crate::protocol::{DeviceId, ErrorCode, ErrorReply};
use crate::session::outbox::Outbox;

/// How long and how many messages are held per UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    pub hold_for: Duration,
    pub hold_max: usize,
}

/// What became of a controller's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Held,
}

/// Messages waiting for their display, by UUID.
#[derive(Clone)]
pub struct HeldMessages(Arc<Inner>);

struct Inner {
    policy: HoldPolicy,
    /// For the expiry task: a display may be back without this node having heard.
    broker: Arc<dyn Broker>,
    /// A queue for each UUID being worked on or holding messages; an empty one is
    /// removed by whoever empties it, while holding its lock.
    queues: SyncMutex<HashMap<DeviceId, Arc<Mutex<Queue>>>>,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Held>,
    /// An expiry task is watching this queue.
    expiring: bool,
}

struct Held {
    message: Message,
    expires_at: Instant,
    /// The connection that sent it, told if the message expires.
    controller: Outbox,
}

/// One UUID's queue, locked.
struct Locked {
    device: DeviceId,
    queue: Arc<Mutex<Queue>>,
    guard: OwnedMutexGuard<Queue>,
}

impl HeldMessages {
    pub fn new(policy: HoldPolicy, broker: Arc<dyn Broker>) -> Self {
        Self(Arc::new(Inner {
            policy,
            broker,
            queues: SyncMutex::default(),
        }))
    }

    fn queues(&self) -> SyncGuard<'_, HashMap<DeviceId, Arc<Mutex<Queue>>>> {
        self.0.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks `device`'s queue, creating it if needed.
    async fn lock_device(&self, device: DeviceId) -> Locked {
        loop {
            let queue = self.queues().entry(device).or_default().clone();
            let guard = queue.clone().lock_owned().await;
            // Emptied and removed while this task waited: take the current one instead.
            let current = self.queues().get(&device).is_some_and(|now| Arc::ptr_eq(now, &queue));
            if current {
                return Locked { device, queue, guard };
            }
        }
    }

    /// Unlocks a queue, removing it if nothing is held and nothing watches it.
    fn unlock(&self, locked: Locked) {
        if locked.guard.items.is_empty() && !locked.guard.expiring {
            let mut queues = self.queues();
            if queues
                .get(&locked.device)
                .is_some_and(|now| Arc::ptr_eq(now, &locked.queue))
            {
                queues.remove(&locked.device);
            }
        }
    }

    /// Sends `message` to the display of `device`, or holds it if the display is offline.
    pub async fn send_or_hold(
        &self,
        broker: &dyn Broker,
        device: DeviceId,
        message: Message,
        controller: &Outbox,
    ) -> Result<Outcome, ErrorReply> {
        let mut locked = self.lock_device(device).await;
        let outcome = self.send_or_hold_locked(&mut locked, broker, message, controller).await;
        self.unlock(locked);
        outcome
    }

    async fn send_or_hold_locked(
        &self,
        locked: &mut Locked,
        broker: &dyn Broker,
        message: Message,
        controller: &Outbox,
    ) -> Result<Outcome, ErrorReply> {
        let device = locked.device;
        // What is held goes first. The display may be back on another node before this
        // one heard of it: then it is handed over now, ahead of this message.
        let still_held = !flush(&mut locked.guard.items, broker, device).await;
        if !still_held {
            // Queued on the display's connection, not awaited until written: the lock
            // must not wait on a display's socket.
            match broker.post(Peer::display(device), message.clone()).await {
                Ok(()) => return Ok(Outcome::Delivered),
                Err(SendError::Offline) => {}
                Err(err) => return Err(super::display_unreachable(err)),
            }
        }
        let queue = &mut locked.guard;
        if queue.items.len() >= self.0.policy.hold_max {
            return Err(ErrorReply::new(
                ErrorCode::QueueFull,
                format!(
                    "the display is offline and {} messages are already held for it",
                    queue.items.len()
                ),
            ));
        }
        queue.items.push_back(Held {
            message,
            expires_at: Instant::now() + self.0.policy.hold_for,
            controller: controller.clone(),
        });
        METRICS.held.inc();
        if !queue.expiring {
            queue.expiring = true;
            tokio::spawn(self.clone().expire(device));
        }
        Ok(Outcome::Held)
    }

    /// Hands everything held to displays that are back (announcements were missed).
    pub async fn release_all(&self, broker: &dyn Broker) {
        let devices: Vec<DeviceId> = self.queues().keys().copied().collect();
        for device in devices {
            self.release(broker, device).await;
        }
    }

    /// Hands what is held for `device` to its display, which attached on another node.
    pub async fn release(&self, broker: &dyn Broker, device: DeviceId) {
        if !self.queues().contains_key(&device) {
            return;
        }
        let mut locked = self.lock_device(device).await;
        flush(&mut locked.guard.items, broker, device).await;
        self.unlock(locked);
    }

    /// Locks `device`'s queue while its display attaches; [`Release::deliver`] then hands
    /// it what was held, before any newer message can be sent.
    pub async fn lock(&self, device: DeviceId) -> Release {
        Release {
            held: self.clone(),
            locked: self.lock_device(device).await,
        }
    }

    /// Answers `expired` for each message whose time ran out, until none is left.
    async fn expire(self, device: DeviceId) {
        loop {
            let mut locked = self.lock_device(device).await;
            let queue = &mut locked.guard;
            let now = Instant::now();
            if queue.items.front().is_some_and(|held| held.expires_at <= now) {
                // Before giving up on them: the display may be back on another node
                // whose announcement never arrived.
                flush(&mut queue.items, self.0.broker.as_ref(), device).await;
            }
            while queue.items.front().is_some_and(|held| held.expires_at <= now) {
                let held = queue.items.pop_front().expect("front exists");
                METRICS.held.dec();
                let reply = ErrorReply::new(
                    ErrorCode::Expired,
                    "the display did not reconnect in time; the message was dropped",
                );
                // The controller may be gone: then nobody is left to tell.
                let _ = held.controller.push(Message::Text(reply.to_json().into()));
            }
            let next_expiry = queue.items.front().map(|held| held.expires_at);
            if next_expiry.is_none() {
                queue.expiring = false;
            }
            self.unlock(locked);
            match next_expiry {
                Some(at) => tokio::time::sleep_until(at).await,
                None => return,
            }
        }
    }
}

/// Posts held messages to the display in order until one does not get through; returns
/// whether none is left.
async fn flush(queue: &mut VecDeque<Held>, broker: &dyn Broker, device: DeviceId) -> bool {
    while let Some(held) = queue.front() {
        if broker.post(Peer::display(device), held.message.clone()).await.is_err() {
            return false;
        }
        queue.pop_front();
        METRICS.held.dec();
    }
    true
}

/// A UUID's held queue, locked while its display attaches.
pub struct Release {
    held: HeldMessages,
    locked: Locked,
}

impl Release {
    /// Delivers, in order, every message held for the UUID to its (now attached) display.
    pub async fn deliver(mut self, broker: &dyn Broker) {
        let device = self.locked.device;
        let queue = std::mem::take(&mut self.locked.guard.items);
        METRICS.held.dec_by(queue.len() as i64);
        // Queued, not awaited: the display's connection starts only once its 101 is sent.
        let mut queue = queue.into_iter();
        for held in queue.by_ref() {
            if broker.post(Peer::display(device), held.message).await.is_err() {
                break;
            }
        }
        for lost in queue {
            let reply = ErrorReply::new(
                ErrorCode::Expired,
                "the display went away again before the message reached it",
            );
            let _ = lost.controller.push(Message::Text(reply.to_json().into()));
        }
        self.finish();
    }

    /// Unlocks without delivering (the display's upgrade failed).
    pub fn finish(self) {
        self.held.unlock(self.locked);
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ws::Utf8Bytes;

    use super::*;
    use crate::broker::RoomPolicy;
    use crate::broker::local::LocalBroker;
    use crate::session::outbox::{Outgoing, outbox};

    fn device(n: u128) -> DeviceId {
        DeviceId::new(uuid::Uuid::from_u128(n))
    }

    fn draw(text: &'static str) -> Message {
        Message::Text(Utf8Bytes::from_static(text))
    }

    fn held(broker: &Arc<LocalBroker>) -> HeldMessages {
        let policy = HoldPolicy {
            hold_for: Duration::from_secs(60),
            hold_max: 4,
        };
        HeldMessages::new(policy, broker.clone())
    }

    fn broker() -> Arc<LocalBroker> {
        Arc::new(LocalBroker::new(Duration::from_millis(50), RoomPolicy::default()))
    }

    #[tokio::test]
    async fn queues_are_kept_only_while_something_is_held() {
        let shared = broker();
        let held = held(&shared);
        let broker = shared.as_ref();
        let (controller, _controller_inbox) = outbox(8);
        let (display, mut display_inbox) = outbox(8);
        broker.attach(Peer::display(device(1)), display).await.unwrap();
        let outcome = held.send_or_hold(broker, device(1), draw("now"), &controller).await;
        assert_eq!(outcome.unwrap(), Outcome::Delivered);
        assert!(held.queues().is_empty(), "nothing held, nothing kept");

        let outcome = held.send_or_hold(broker, device(2), draw("later"), &controller).await;
        assert_eq!(outcome.unwrap(), Outcome::Held);
        assert_eq!(held.queues().len(), 1);
        let (display, mut second_inbox) = outbox(8);
        broker.attach(Peer::display(device(2)), display).await.unwrap();
        held.release(broker, device(2)).await;
        assert!(matches!(second_inbox.try_next(), Some(Outgoing::Message(message, _)) if message == draw("later")));
        assert!(matches!(display_inbox.try_next(), Some(Outgoing::Message(message, _)) if message == draw("now")));
    }

    #[tokio::test]
    async fn a_display_attaching_holds_its_queue_but_not_the_others() {
        let shared = broker();
        let held = held(&shared);
        let broker = shared.as_ref();
        let (controller, _inbox) = outbox(8);
        let release = held.lock(device(1)).await;
        // Another UUID's draw is not held up by the attaching display.
        let other = tokio::time::timeout(
            Duration::from_secs(1),
            held.send_or_hold(broker, device(2), draw("x"), &controller),
        )
        .await;
        assert!(other.is_ok(), "another UUID waited for the attaching display");
        release.finish();
    }

    #[tokio::test(start_paused = true)]
    async fn a_display_back_unannounced_gets_its_draws_instead_of_an_expiry() {
        let shared = broker();
        let held = held(&shared);
        let broker = shared.as_ref();
        let (controller, mut controller_inbox) = outbox(8);
        let outcome = held.send_or_hold(broker, device(3), draw("held"), &controller).await;
        assert_eq!(outcome.unwrap(), Outcome::Held);
        // The display comes back, and nobody tells the held queue.
        let (display, mut display_inbox) = outbox(8);
        broker.attach(Peer::display(device(3)), display).await.unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(matches!(display_inbox.try_next(), Some(Outgoing::Message(message, _)) if message == draw("held")));
        assert!(
            controller_inbox.try_next().is_none(),
            "no `expired` for a delivered draw"
        );
        assert!(held.queues().is_empty());
    }
}
