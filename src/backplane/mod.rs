//! The backplane: only what crosses nodes. Who holds each pairing address, routing a
//! delivery to the node that holds its address and bringing back the outcome, the
//! order, sequence numbers, roster and history of each group, pairing codes, readiness
//! and catalogue-change announcements.
//!
//! The backplane never touches a connection. What arrives from other nodes it hands to
//! this node's [`crate::hub`] through [`Inbound`], and the hub applies every delivery
//! rule itself, so each rule is written once whatever the backplane.
//! [`solo::Solo`] is the backplane of a server alone (`serve` without `--redis-url`);
//! [`redis::RedisBackplane`] spans nodes on Redis, the way Centrifugo's Redis broker
//! sits behind its hub.

pub mod codes;
pub mod guesses;
pub mod redis;
pub mod solo;

use std::net::IpAddr;
use std::sync::Weak;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tungstenite::{Message, Utf8Bytes};

use crate::address::{Generation, Group, Peer};
use crate::lifecycle::Tasks;
use crate::protocol::ClientId;
use crate::protocol::pairing::PairingCode;
use crate::protocol::parcel::Parcel;
use crate::protocol::rooms::{MemberCard, SeqTemplate};
use crate::protocol::{DeviceId, Frame};
use codes::IssuedCode;
use guesses::Attempt;

/// The shared state between nodes (Redis) cannot be reached: the operation that needed
/// it failed, and the node reports itself not ready until it is back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the scale-out broker is unavailable: {0}")]
pub struct Unavailable(pub String);

/// A node of the cluster, as the backplane names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeId(pub String);

/// How long a delivery waits on the receiving connection's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// Not at all: a full queue marks a slow consumer at once (fan-out, presence).
    Pushed,
    /// For room in the queue, up to the patience, but not for the write.
    Queued,
    /// Until the connection has written it to its client's socket (a draw's receipt).
    Written,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    Offline,
    SlowConsumer,
    /// The node asked does not hold the address (any more), or is gone: the sender,
    /// which had guessed where it was, looks it up and tries once more.
    NotHeld,
}

/// A delivery routed to the node that holds its address. Externally tagged on the wire,
/// like the node message that carries it (see `redis::keys::NodeMessage`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routed {
    /// For the connection holding a pairing address.
    Peer { peer: Peer, parcel: Parcel, wait: Wait },
    /// For one member of a group (signaling).
    Member { group: String, id: ClientId, frame: Frame },
}

/// A message of a group, as every node with members in it receives it, in one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Counts every message of the group, notices included: a joiner skips those at or
    /// before its snapshot.
    pub event: u64,
    /// A member not to deliver to (the joiner of its own join notice).
    pub except: Option<ClientId>,
    pub message: Message,
}

impl Envelope {
    /// Whether this is a join or leave notice, which members may go without: notices are
    /// the only messages that name a member to leave out (the one joining or leaving).
    pub fn is_notice(&self) -> bool {
        self.except.is_some()
    }
}

/// A group as a joining member finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The members already there, in join order; `None` when the group, with the joiner,
    /// has more members than it lists ([`RoomPolicy::listed_up_to`]).
    pub others: Option<Vec<MemberCard>>,
    /// How many members the group has, the joiner included (0 for the chat hub, which
    /// keeps no roster). Unlisted, it may count members of a node that just died.
    pub count: usize,
    /// The group's last sequence number (0 before its first sequenced message).
    pub seq: u64,
    /// The retained messages, oldest first; the last one has sequence number `seq`.
    pub history: Vec<Utf8Bytes>,
    /// The group's last event: envelopes up to it are already reflected here.
    pub event: u64,
}

/// A message for every member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publication {
    /// Sent as it is (the chat hub).
    Plain(Message),
    /// Given the group's next sequence number and kept in its history (rooms).
    Sequenced(SeqTemplate),
}

/// How many of a room's messages are kept for recovery (`--room-history`), how long an
/// empty room keeps them (`--room-retention`), and up to how many members a room lists
/// its members to joiners and tells them of joins and leaves (`--room-notices-up-to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomPolicy {
    pub history: usize,
    pub retention: Duration,
    /// Past this many members (the joiner included), a joiner's welcome carries only the
    /// count and it hears no notices: listing every member to every joiner, and telling
    /// every member of every join, costs the square of the room's size.
    pub notices_up_to: usize,
}

impl Default for RoomPolicy {
    fn default() -> Self {
        Self {
            history: 100,
            retention: Duration::from_secs(300),
            notices_up_to: 100,
        }
    }
}

impl RoomPolicy {
    /// Up to how many members (the joiner included) `group` lists its members to a
    /// joiner; `None`: always. Only rooms have a limit: signaling rooms are small by
    /// nature and their peers need each other's ids.
    pub fn listed_up_to(&self, group: &Group) -> Option<usize> {
        match group {
            Group::Room(_) => Some(self.notices_up_to),
            _ => None,
        }
    }
}

/// A quiz or action moved between difficulties (or appeared, or went): what the content
/// API tells other nodes so that their in-memory catalogues follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogChange {
    pub table: crate::catalog::Table,
    pub id: i32,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

/// Everything this node holds, for registering it again after the backplane lost it.
#[derive(Debug, Clone, Default)]
pub struct Registrations {
    pub peers: Vec<(Peer, Generation)>,
    /// Group members, with their farewells.
    pub members: Vec<(Group, MemberCard, Option<Message>)>,
    /// Generations from here on were given out after the list was taken.
    pub watermark: Generation,
}

/// What the backplane hands to this node's hub: implemented by [`crate::hub::Hub`].
#[async_trait]
pub trait Inbound: Send + Sync {
    /// A message of `group`, in the group's order.
    fn envelope(&self, group: &Group, envelope: Envelope);

    /// A delivery another node routed here, for a connection of this node.
    async fn routed(&self, routed: Routed) -> Outcome;

    /// A newer connection on another node took `peer`: close ours if it is still `generation`.
    fn replaced(&self, peer: Peer, generation: Generation);

    /// `peer`'s node was found dead: its counterpart learns that it is gone.
    async fn peer_lost(&self, peer: Peer);

    /// Presence notices may have been lost (the backplane was away): each connection here
    /// whose idea of its counterpart is wrong is told what is true now.
    async fn presence_doubtful(&self);

    /// A display of `device` attached on another node (held delivery hands it what waits).
    fn display_attached(&self, device: DeviceId);

    /// Messages of the groups with members here may have passed them by (the node lost
    /// its subscription): they must rejoin.
    fn members_missed(&self);

    /// What this node holds now.
    fn registrations(&self) -> Registrations;
}

/// What crosses nodes. Each method is one step that other nodes must agree on.
#[async_trait]
pub trait Backplane: Send + Sync + 'static {
    /// Hands what arrives from now on to `inbound`, and starts the background work (on
    /// `tasks`, so that it ends with the server).
    fn start(&self, inbound: Weak<dyn Inbound>, tasks: &Tasks);

    /// Records that this node's connection `generation` holds `peer`; an older holder on
    /// another node is told to close (4001).
    async fn claim(&self, peer: Peer, generation: Generation) -> Result<(), Unavailable>;

    /// Lets go of `peer` if this node's `generation` still holds it (with a display's
    /// pairing code); returns whether it did.
    async fn release(&self, peer: Peer, generation: Generation) -> Result<bool, Unavailable>;

    /// A display of `device` attached here: nodes holding draws for it hand them over.
    async fn announce_display(&self, device: DeviceId);

    /// The other node holding `peer`, if one does and is alive.
    async fn locate(&self, peer: Peer) -> Result<Option<NodeId>, Unavailable>;

    /// The other node where member `id` of `group` is connected, if any.
    async fn locate_member(&self, group: &Group, id: ClientId) -> Result<Option<NodeId>, Unavailable>;

    /// Has `node` deliver `routed` to its connection, and returns the outcome.
    async fn route(&self, node: &NodeId, routed: Routed) -> Result<Outcome, Unavailable>;

    /// Has the other node holding `peer` deliver `parcel` to it, waiting as `wait` says,
    /// and returns the outcome: [`Outcome::Offline`] when no other node holds it.
    async fn route_to_peer(&self, peer: Peer, parcel: Parcel, wait: Wait) -> Result<Outcome, Unavailable>;

    /// Adds a member to `group` (announcing it with `notice`) and returns the group as
    /// the member finds it. From now on this node receives the group's envelopes. The
    /// others are told `farewell` when the member leaves, also if its node dies.
    async fn join(
        &self,
        group: &Group,
        card: &MemberCard,
        notice: Option<&Message>,
        farewell: Option<&Message>,
    ) -> Result<Snapshot, Unavailable>;

    /// Every member of `group` now, in join order (a roster request).
    async fn roster(&self, group: &Group) -> Result<Vec<MemberCard>, Unavailable>;

    /// Removes member `id` from `group`, telling the others its farewell.
    async fn leave(&self, group: &Group, id: ClientId, farewell: Option<&Message>);

    /// Orders `publication` after every earlier message of `group` and sends it to every
    /// node with members; returns the sequence number given to a sequenced one.
    async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable>;

    /// The live pairing code of `device`, or a new one valid for `ttl`.
    async fn issue_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, Unavailable>;

    /// The UUID a live pairing code stands for.
    async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable>;

    /// Takes one pairing-code lookup from `client`'s budget of misses, shared by every
    /// node, or `Err(retry_after)` when it has none left.
    async fn attempt_guess(&self, client: IpAddr) -> Result<Result<Attempt, Duration>, Unavailable>;

    /// The code looked up was live: the attempt goes back to the budget.
    async fn give_back_guess(&self, attempt: Attempt);

    /// Whether cross-node operations can be served now (for `/readyz`).
    async fn readiness(&self) -> Result<(), Unavailable>;

    /// Tells the other nodes that the catalogue changed, so that they apply it too.
    async fn catalog_changed(&self, change: CatalogChange);
}
