//! Held delivery (opt-in with `--hold-for`): a draw for a display that is offline waits,
//! in order, for a display with that UUID to come back.
//!
//! A headset taken off sleeps and drops its connection; with holding on, the controller's
//! messages in the meantime are answered `queued` and delivered when the display
//! reconnects, or answered `expired` / `queue_full` on the controller's connection. One
//! lock orders "send or hold" against "display attaches and takes what was held", so
//! nothing is delivered twice or out of order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message;
use tokio::sync::{Mutex, MutexGuard};
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
    queues: Mutex<HashMap<DeviceId, VecDeque<Held>>>,
}

struct Held {
    message: Message,
    expires_at: Instant,
    /// The connection that sent it, told if the message expires.
    controller: Outbox,
}

impl HeldMessages {
    pub fn new(policy: HoldPolicy) -> Self {
        Self(Arc::new(Inner {
            policy,
            queues: Mutex::new(HashMap::new()),
        }))
    }

    /// Sends `message` to the display of `device`, or holds it if the display is offline.
    pub async fn send_or_hold(
        &self,
        broker: &dyn Broker,
        device: DeviceId,
        message: Message,
        controller: &Outbox,
    ) -> Result<Outcome, ErrorReply> {
        let mut queues = self.0.queues.lock().await;
        // What is held goes first. The display may be back on another node before this
        // one heard of it: then it is handed over now, ahead of this message.
        let still_held = match queues.get_mut(&device) {
            Some(queue) => !flush(queue, broker, device).await,
            None => false,
        };
        if !still_held {
            // Queued on the display's connection, not awaited until written: the lock
            // must not wait on a display's socket.
            match broker.post(Peer::display(device), message.clone()).await {
                Ok(()) => return Ok(Outcome::Delivered),
                Err(SendError::Offline) => {}
                Err(err) => return Err(super::display_unreachable(err)),
            }
        }
        let queue = queues.entry(device).or_default();
        if queue.len() >= self.0.policy.hold_max {
            return Err(ErrorReply::new(
                ErrorCode::QueueFull,
                format!(
                    "the display is offline and {} messages are already held for it",
                    queue.len()
                ),
            ));
        }
        let first = queue.is_empty();
        queue.push_back(Held {
            message,
            expires_at: Instant::now() + self.0.policy.hold_for,
            controller: controller.clone(),
        });
        METRICS.held.inc();
        if first {
            tokio::spawn(self.clone().expire(device));
        }
        Ok(Outcome::Held)
    }

    /// Hands everything held to displays that are back (announcements were missed).
    pub async fn release_all(&self, broker: &dyn Broker) {
        let mut queues = self.0.queues.lock().await;
        for (device, queue) in queues.iter_mut() {
            flush(queue, broker, *device).await;
        }
    }

    /// Hands what is held for `device` to its display, which attached on another node.
    pub async fn release(&self, broker: &dyn Broker, device: DeviceId) {
        let mut queues = self.0.queues.lock().await;
        if let Some(queue) = queues.get_mut(&device) {
            flush(queue, broker, device).await;
        }
    }

    /// Locks the queues while a display attaches; [`Release::deliver_to`] then hands it
    /// what was held, before any newer message can be sent.
    pub async fn lock(&self) -> Release<'_> {
        Release(self.0.queues.lock().await)
    }

    /// Answers `expired` for each message whose time ran out, until none is left.
    async fn expire(self, device: DeviceId) {
        loop {
            let next_expiry = {
                let mut queues = self.0.queues.lock().await;
                let Some(queue) = queues.get_mut(&device) else { return };
                let now = Instant::now();
                while queue.front().is_some_and(|held| held.expires_at <= now) {
                    let held = queue.pop_front().expect("front exists");
                    METRICS.held.dec();
                    let reply = ErrorReply::new(
                        ErrorCode::Expired,
                        "the display did not reconnect in time; the message was dropped",
                    );
                    // The controller may be gone: then nobody is left to tell.
                    let _ = held.controller.push(Message::Text(reply.to_json().into()));
                }
                match queue.front() {
                    Some(held) => held.expires_at,
                    None => {
                        queues.remove(&device);
                        return;
                    }
                }
            };
            tokio::time::sleep_until(next_expiry).await;
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

/// The held queues, locked while a display attaches.
pub struct Release<'a>(MutexGuard<'a, HashMap<DeviceId, VecDeque<Held>>>);

impl Release<'_> {
    /// Delivers, in order, every message held for `device` to its (now attached) display.
    pub async fn deliver_to(mut self, broker: &dyn Broker, device: DeviceId) {
        let Some(queue) = self.0.remove(&device) else { return };
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
    }
}
