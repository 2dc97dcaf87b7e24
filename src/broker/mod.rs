//! The delivery seam: where a connection registers under its pairing address, and how a
//! message reaches the connection that holds an address.
//!
//! Protocol code (pairing today; relay, rooms and signaling later) talks only to
//! [`Broker`]. [`local::LocalBroker`] keeps everything in this process; a Redis-backed
//! broker can route between nodes behind the same trait without touching that code.

pub mod local;

use std::fmt;

use async_trait::async_trait;
use axum::extract::ws::Message;

use crate::protocol::{DeviceId, Role};
use crate::session::outbox::Outbox;

/// A connection's address in the pairing space: one display and one controller per UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub device: DeviceId,
    pub role: Role,
}

impl Peer {
    pub fn display(device: DeviceId) -> Self {
        Self {
            device,
            role: Role::Display,
        }
    }

    pub fn controller(device: DeviceId) -> Self {
        Self {
            device,
            role: Role::Controller,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.role, self.device)
    }
}

/// Tells apart the successive connections that held one address, so that an old
/// connection's clean-up can never unregister the connection that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Generation(pub u64);

/// Why a message did not reach its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no connection holds that address")]
    Offline,
    /// The peer stopped reading; it has been closed under the slow-consumer policy.
    #[error("the peer was not reading and has been disconnected")]
    SlowConsumer,
}

/// The close code and reason sent to a connection replaced by a newer one.
pub const REPLACED: (u16, &str) = (4001, "replaced");

#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Registers `outbox` as the live connection for `peer`. A connection already
    /// holding `peer` is closed with 4001 `replaced` after what was queued for it.
    async fn attach(&self, peer: Peer, outbox: Outbox) -> Generation;

    /// Unregisters `peer` if `generation` still holds it; otherwise does nothing.
    async fn detach(&self, peer: Peer, generation: Generation);

    /// Whether a connection holds `peer` right now.
    async fn is_online(&self, peer: Peer) -> bool;

    /// Delivers `message` to the connection holding `to`: returns once it has been
    /// written to that client's socket, or why it was not.
    async fn send(&self, to: Peer, message: Message) -> Result<(), SendError>;

    /// Queues `message` for the connection holding `to` without waiting for the write.
    /// For messages whose sender was already answered (held draws).
    async fn post(&self, to: Peer, message: Message) -> Result<(), SendError>;
}
