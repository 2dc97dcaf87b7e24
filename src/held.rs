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

use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;
use tungstenite::Message;

use crate::address::Peer;
use crate::backplane::Wait;
use crate::hub::{Hub, SendError};
use crate::lifecycle::Tasks;
use crate::metrics::METRICS;
use crate::protocol::DeviceId;
use crate::protocol::parcel::{Parcel, unix_ms};
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

/// Why a draw was neither delivered nor held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHeld {
    /// The display could not be reached for another reason than being offline.
    Unreachable(SendError),
    /// This many draws are held for the display already (`--hold-max`).
    QueueFull(usize),
}

/// Makes the controller's `expired` answer for a held draw, given why it expired, in
/// the controller's protocol version.
pub type Expiry = Box<dyn FnOnce(&'static str) -> Message + Send + Sync>;

/// Draws waiting for their display, by UUID.
#[derive(Clone)]
pub struct HeldDraws(Arc<Inner>);

struct Inner {
    policy: HoldPolicy,
    hub: Arc<Hub>,
    /// Expiry timers run here, and end with the server.
    tasks: Tasks,
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
    parcel: Parcel,
    expires_at: Instant,
    /// The connection that sent it, told if the draw expires.
    controller: Outbox,
    expired: Expiry,
}

impl Held {
    /// Tells the controller (if it is still there) that the draw was dropped. The answer
    /// is made only for a controller that can read it, so that `pairlink_errors_total`
    /// counts answers sent, not draws of controllers long gone.
    fn expire(self, why: &'static str) {
        METRICS.held.dec();
        if self.controller.is_open() {
            let _ = self.controller.push((self.expired)(why));
        }
    }
}

const DID_NOT_RECONNECT: &str = "the display did not reconnect in time; the message was dropped";
const WENT_AWAY_AGAIN: &str = "the display went away again before the message reached it";

/// One UUID's queue, locked.
struct Locked {
    device: DeviceId,
    queue: Arc<Mutex<Queue>>,
    guard: OwnedMutexGuard<Queue>,
}

impl HeldDraws {
    pub fn new(policy: HoldPolicy, hub: Arc<Hub>, tasks: &Tasks) -> Self {
        Self(Arc::new(Inner {
            policy,
            hub,
            tasks: tasks.clone(),
            queues: SyncMutex::default(),
        }))
    }

    pub fn policy(&self) -> HoldPolicy {
        self.0.policy
    }

    /// Hands over what is held whenever a display attaches on another node, until the
    /// server stops.
    pub fn follow_displays(&self, tasks: &Tasks) {
        let (held, mut attached) = (self.clone(), self.0.hub.displays_attached());
        tasks.spawn(async move {
            loop {
                match attached.recv().await {
                    Ok(device) => held.release(device).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => held.release_all().await,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
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

    /// Sends `parcel` to the display of `device`, or holds it if the display is offline.
    pub async fn send_or_hold(
        &self,
        device: DeviceId,
        parcel: Parcel,
        controller: &Outbox,
        expired: Expiry,
    ) -> Result<Outcome, NotHeld> {
        let mut locked = self.lock_device(device).await;
        let outcome = self.send_or_hold_locked(&mut locked, parcel, controller, expired).await;
        self.unlock(locked);
        outcome
    }

    async fn send_or_hold_locked(
        &self,
        locked: &mut Locked,
        parcel: Parcel,
        controller: &Outbox,
        expired: Expiry,
    ) -> Result<Outcome, NotHeld> {
        let device = locked.device;
        let hub = &self.0.hub;
        // What is held goes first. The display may be back on another node before this
        // one heard of it: then it is handed over now, ahead of this message.
        let still_held = !flush(&mut locked.guard.items, hub, device).await;
        if !still_held {
            // Queued on the display's connection, not awaited until written: the lock
            // must not wait on a display's socket.
            match hub.deliver(Peer::display(device), parcel.clone(), Wait::Queued).await {
                Ok(()) => return Ok(Outcome::Delivered),
                Err(SendError::Offline) => {}
                Err(err) => return Err(NotHeld::Unreachable(err)),
            }
        }
        let queue = &mut locked.guard;
        if queue.items.len() >= self.0.policy.hold_max {
            return Err(NotHeld::QueueFull(queue.items.len()));
        }
        let parcel = match parcel {
            Parcel::Draw { draw, difficulty, .. } => Parcel::Draw {
                draw,
                difficulty,
                held_since_ms: Some(unix_ms(std::time::SystemTime::now())),
            },
            other => other,
        };
        queue.items.push_back(Held {
            parcel,
            expires_at: Instant::now() + self.0.policy.hold_for,
            controller: controller.clone(),
            expired,
        });
        METRICS.held.inc();
        if !queue.expiring {
            queue.expiring = true;
            self.0.tasks.spawn(self.clone().expire(device));
        }
        Ok(Outcome::Held)
    }

    /// Hands everything held to displays that are back (announcements were missed).
    async fn release_all(&self) {
        let devices: Vec<DeviceId> = self.queues().keys().copied().collect();
        for device in devices {
            self.release(device).await;
        }
    }

    /// Hands what is held for `device` to its display, which attached on another node.
    async fn release(&self, device: DeviceId) {
        if !self.queues().contains_key(&device) {
            return;
        }
        let mut locked = self.lock_device(device).await;
        flush(&mut locked.guard.items, &self.0.hub, device).await;
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
                flush(&mut queue.items, &self.0.hub, device).await;
            }
            while queue.items.front().is_some_and(|held| held.expires_at <= now) {
                // The controller may be gone: then nobody is left to tell.
                queue.items.pop_front().expect("front exists").expire(DID_NOT_RECONNECT);
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

/// Queues held draws for the display in order until one does not get through; returns
/// whether none is left.
async fn flush(queue: &mut VecDeque<Held>, hub: &Hub, device: DeviceId) -> bool {
    while let Some(held) = queue.front() {
        let display = Peer::display(device);
        if hub.deliver(display, held.parcel.clone(), Wait::Queued).await.is_err() {
            return false;
        }
        queue.pop_front();
        METRICS.held.dec();
    }
    true
}

/// A UUID's held queue, locked while its display attaches.
pub struct Release {
    held: HeldDraws,
    locked: Locked,
}

impl Release {
    /// Delivers, in order, every message held for the UUID to its (now attached) display.
    pub async fn deliver(mut self, hub: &Hub) {
        let device = self.locked.device;
        let mut queue = std::mem::take(&mut self.locked.guard.items).into_iter();
        // Queued, not awaited: the display's connection starts only once its 101 is sent.
        for held in queue.by_ref() {
            if hub
                .deliver(Peer::display(device), held.parcel.clone(), Wait::Queued)
                .await
                .is_err()
            {
                held.expire(WENT_AWAY_AGAIN);
                break;
            }
            METRICS.held.dec();
        }
        for lost in queue {
            lost.expire(WENT_AWAY_AGAIN);
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
    use std::time::Duration;

    use super::*;
    use crate::backplane::RoomPolicy;
    use crate::backplane::solo::Solo;
    use crate::protocol::Version;
    use crate::protocol::pairing::Draw;
    use crate::session::outbox::{Outgoing, outbox};

    fn device(n: u128) -> DeviceId {
        DeviceId::new(uuid::Uuid::from_u128(n))
    }

    fn draw(action_id: i32) -> Parcel {
        Parcel::Draw {
            draw: Draw {
                quiz_id: vec![1],
                action_id,
            },
            difficulty: 1,
            held_since_ms: None,
        }
    }

    fn expiry() -> Expiry {
        Box::new(|why| Message::Text(format!("expired: {why}").into()))
    }

    fn setup() -> (HeldDraws, Arc<Hub>) {
        let tasks = Tasks::new();
        let solo = Arc::new(Solo::new(RoomPolicy::default(), Default::default()));
        let hub = Hub::new(solo, Duration::from_millis(50), &tasks);
        let policy = HoldPolicy {
            hold_for: Duration::from_secs(60),
            hold_max: 4,
        };
        (HeldDraws::new(policy, hub.clone(), &tasks), hub)
    }

    fn action_of(outgoing: Option<Outgoing>) -> i64 {
        let Some(Outgoing::Message(Message::Text(text), _)) = outgoing else {
            panic!("expected a draw, got {outgoing:?}")
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["action_id"].as_i64().unwrap()
    }

    #[tokio::test]
    async fn queues_are_kept_only_while_something_is_held() {
        let (held, hub) = setup();
        let (controller, _controller_reader) = outbox(8);
        let (display, mut display_reader) = outbox(8);
        hub.attach(Peer::display(device(1)), display, Version::V1)
            .await
            .unwrap();
        let outcome = held.send_or_hold(device(1), draw(1), &controller, expiry()).await;
        assert_eq!(outcome.unwrap(), Outcome::Delivered);
        assert!(held.queues().is_empty(), "nothing held, nothing kept");

        let outcome = held.send_or_hold(device(2), draw(2), &controller, expiry()).await;
        assert_eq!(outcome.unwrap(), Outcome::Held);
        assert_eq!(held.queues().len(), 1);
        let (display, mut second_reader) = outbox(8);
        hub.attach(Peer::display(device(2)), display, Version::V1)
            .await
            .unwrap();
        held.release(device(2)).await;
        assert_eq!(action_of(second_reader.try_next()), 2);
        assert_eq!(action_of(display_reader.try_next()), 1);
    }

    #[tokio::test]
    async fn a_display_attaching_holds_its_queue_but_not_the_others() {
        let (held, _hub) = setup();
        let (controller, _reader) = outbox(8);
        let release = held.lock(device(1)).await;
        // Another UUID's draw is not held up by the attaching display.
        let other = tokio::time::timeout(
            Duration::from_secs(1),
            held.send_or_hold(device(2), draw(1), &controller, expiry()),
        )
        .await;
        assert!(other.is_ok(), "another UUID waited for the attaching display");
        release.finish();
    }

    #[tokio::test(start_paused = true)]
    async fn a_display_back_unannounced_gets_its_draws_instead_of_an_expiry() {
        let (held, hub) = setup();
        let (controller, mut controller_reader) = outbox(8);
        let outcome = held.send_or_hold(device(3), draw(3), &controller, expiry()).await;
        assert_eq!(outcome.unwrap(), Outcome::Held);
        // The display comes back, and nobody tells the held queue.
        let (display, mut display_reader) = outbox(8);
        hub.attach(Peer::display(device(3)), display, Version::V2)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        let Some(Outgoing::Message(Message::Text(text), _)) = display_reader.try_next() else {
            panic!("the held draw")
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (value["held"].as_bool(), value["action_id"].as_i64()),
            (Some(true), Some(3))
        );
        assert!(value["sent_at"].is_string());
        assert!(
            controller_reader.try_next().is_none(),
            "no `expired` for a delivered draw"
        );
        assert!(held.queues().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_draw_held_too_long_is_answered_expired() {
        let (held, _hub) = setup();
        let (controller, mut controller_reader) = outbox(8);
        held.send_or_hold(device(4), draw(4), &controller, expiry())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(61)).await;
        let Some(Outgoing::Message(Message::Text(text), _)) = controller_reader.try_next() else {
            panic!("the expiry")
        };
        assert_eq!(text.as_str(), format!("expired: {DID_NOT_RECONNECT}"));
        assert!(held.queues().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn no_expired_answer_is_made_for_a_controller_that_left() {
        let (held, _hub) = setup();
        let (controller, controller_reader) = outbox(8);
        let made = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let noticed = made.clone();
        let expired: Expiry = Box::new(move |why| {
            noticed.store(true, std::sync::atomic::Ordering::SeqCst);
            Message::Text(why.into())
        });
        held.send_or_hold(device(5), draw(5), &controller, expired)
            .await
            .unwrap();
        drop(controller_reader);
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(held.queues().is_empty(), "the draw expired");
        assert!(
            !made.load(std::sync::atomic::Ordering::SeqCst),
            "an answer was made for a controller that was gone"
        );
    }
}
