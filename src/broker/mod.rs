//! The delivery seam: where a connection registers under its pairing address, and how a
//! message reaches the connection that holds an address.
//!
//! Protocol code (pairing, the chat hub, rooms and signaling) talks only to [`Broker`].
//! [`local::LocalBroker`] keeps everything in this process; a Redis-backed broker can
//! route between nodes behind the same trait without touching that code.
//!
//! Two kinds of address: a [`Peer`] (one display and one controller per UUID, the newer
//! replacing the older) and a member of a [`Group`] (any number, each with a
//! server-given [`ClientId`], receiving what is published to the group in one order).

pub mod codes;
pub mod groups;
pub mod local;
pub mod redis;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::ws::Message;

use crate::protocol::pairing::PairingCode;
use crate::protocol::rooms::{MemberCard, SeqTemplate};
use crate::protocol::{ClientId, DeviceId, Role, RoomName};
use crate::session::outbox::Outbox;
use codes::IssuedCode;

/// A connection's address in the pairing space: one display and one controller per UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    /// The shared state between nodes (Redis) cannot be reached right now.
    #[error("the scale-out broker is unavailable")]
    Unavailable,
}

/// The shared state between nodes (Redis) cannot be reached: the operation that needed
/// it failed, and the node reports itself not ready until it is back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the scale-out broker is unavailable: {0}")]
pub struct Unavailable(pub String);

impl Unavailable {
    /// HTTP 503 before an upgrade: the node cannot register connections without Redis.
    pub fn refusal(&self) -> axum::response::Response {
        crate::session::refuse(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            crate::protocol::ErrorCode::BrokerUnavailable,
            format!("{self}; retry shortly"),
        )
    }

    /// The in-band error of the typed-event endpoints (hub, rooms, signaling).
    pub fn event() -> axum::extract::ws::Message {
        let error = crate::protocol::EventError::new(
            crate::protocol::ErrorCode::BrokerUnavailable,
            "the server cannot reach its other nodes right now (Redis is unavailable); the message was dropped",
        );
        axum::extract::ws::Message::Text(error.to_json().into())
    }

    /// The in-band error for a message that needed another node.
    pub fn reply() -> crate::protocol::ErrorReply {
        crate::protocol::ErrorReply::new(
            crate::protocol::ErrorCode::BrokerUnavailable,
            "the server cannot reach its other nodes right now (Redis is unavailable); retry shortly",
        )
    }
}

impl From<Unavailable> for SendError {
    fn from(_: Unavailable) -> Self {
        SendError::Unavailable
    }
}

/// A quiz or action moved between difficulties (or appeared, or went): what the content
/// API tells other nodes so that their in-memory catalogues follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CatalogChange {
    pub table: crate::catalog::Table,
    pub id: i32,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

/// The close code and reason sent to a connection replaced by a newer one.
pub const REPLACED: (u16, &str) = (4001, "replaced");

/// A set of connections that hear the same messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Group {
    /// The chat hub, `/ws`: everyone.
    Hub,
    /// `/ws/rooms/{room}`.
    Room(RoomName),
    /// `/ws/signal/{room}`; a separate space from rooms of the same name.
    Signal(RoomName),
}

/// How many of a room's messages are kept for recovery (`--room-history`), and how long
/// an empty room keeps them (`--room-retention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomPolicy {
    pub history: usize,
    pub retention: Duration,
}

impl Default for RoomPolicy {
    fn default() -> Self {
        Self {
            history: 100,
            retention: Duration::from_secs(300),
        }
    }
}

/// The group as a joining member finds it, for its welcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The members already there, in join order.
    pub others: Vec<MemberCard>,
    /// The group's last sequence number (0 before its first sequenced message).
    pub seq: u64,
    /// With `since`: whether every message after it was still retained and is replayed.
    pub recovered: Option<bool>,
}

/// Makes a joining member's first message from the group as it finds it.
pub type Welcome = Box<dyn FnOnce(&Roster) -> Message + Send>;

/// A connection joining a group.
pub struct Joining {
    pub card: MemberCard,
    pub outbox: Outbox,
    /// Replay the retained messages after this sequence number, right after the welcome.
    pub since: Option<u64>,
    /// Makes the joiner's first message from the group as it finds it.
    pub welcome: Option<Welcome>,
    /// Told to the members already there.
    pub notice: Option<Message>,
}

/// A message for every member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publication {
    /// Sent as it is (the chat hub).
    Plain(Message),
    /// Given the group's next sequence number and kept in its history (rooms).
    Sequenced(SeqTemplate),
}

/// Who is connected, as the broker sees it: the counts of `GET /api/stats`.
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

#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Registers `outbox` as the live connection for `peer`. A connection already
    /// holding `peer` is closed with 4001 `replaced` after what was queued for it.
    async fn attach(&self, peer: Peer, outbox: Outbox) -> Result<Generation, Unavailable>;

    /// Unregisters `peer` if `generation` still holds it; otherwise does nothing.
    async fn detach(&self, peer: Peer, generation: Generation);

    /// Whether a connection holds `peer` right now.
    async fn is_online(&self, peer: Peer) -> Result<bool, Unavailable>;

    /// Delivers `message` to the connection holding `to`: returns once it has been
    /// written to that client's socket, or why it was not.
    async fn send(&self, to: Peer, message: Message) -> Result<(), SendError>;

    /// Queues `message` for the connection holding `to` without waiting for the write.
    /// For messages whose sender was already answered (held draws).
    async fn post(&self, to: Peer, message: Message) -> Result<(), SendError>;

    /// The live pairing code of the display of `device`, or a new one valid for `ttl`.
    /// [`SendError::Offline`] when no display holds `device`. A code ends when its
    /// display disconnects.
    async fn pairing_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, SendError>;

    /// The UUID a live pairing code stands for.
    async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable>;

    /// Adds a member to `group`: its welcome and replay are queued first, then the
    /// others are told, all before any later message of the group.
    async fn join(&self, group: &Group, joining: Joining) -> Result<(), Unavailable>;

    /// Removes member `id` (if it is there) and tells the rest with `notice`.
    async fn leave(&self, group: &Group, id: ClientId, notice: Option<Message>);

    /// Queues `publication` for every member of `group`, the sender included; returns
    /// the sequence number given to a sequenced one. Never waits on a member: one whose
    /// queue is full is closed with 1013 (slow consumer).
    async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable>;

    /// Queues `message` for member `to` of `group`, without waiting.
    async fn send_to_member(&self, group: &Group, to: ClientId, message: Message) -> Result<(), SendError>;

    /// Whether cross-node operations can be served now (for `/readyz`).
    async fn readiness(&self) -> Result<(), Unavailable>;

    /// Tells the other nodes that the catalogue changed, so that they apply it too.
    async fn catalog_changed(&self, change: CatalogChange);

    /// Displays attaching on any node, when the broker spans nodes: held delivery on the
    /// controller's node listens, to hand over what it holds. `None` in one process, where
    /// the display's own handler does it.
    fn attachments(&self) -> Option<tokio::sync::broadcast::Receiver<DeviceId>> {
        None
    }
    /// Counts the connections and groups it holds, for the console's status panel.
    async fn census(&self) -> Census;
}
