//! Where a message can be sent: a side of a pair ([`Peer`]) or a [`Group`] of members.
//! The hub finds the connection behind an address on this node, the backplane the node
//! behind it in a cluster; both speak of addresses in these terms.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protocol::{DeviceId, Role, RoomName};

/// One side of a pair: one display and one controller per UUID, the newer connection
/// replacing the older.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Peer {
    pub device: DeviceId,
    pub role: Role,
}

/// A map keyed by [`Peer`], as the hub and the holder cache keep them. Hashed with
/// aHash, keyed at random per map like std's SipHash (UUIDs are the clients' to choose,
/// so the hash must not be one they can collide at will), at a fifth of its cost: the
/// lookup of every delivery's peer took about 230 instructions with SipHash.
pub type PeerMap<V> = HashMap<Peer, V, ahash::RandomState>;

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

    /// The other side of the same pair.
    pub fn counterpart(self) -> Self {
        Self {
            device: self.device,
            role: match self.role {
                Role::Display => Role::Controller,
                Role::Controller => Role::Display,
            },
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.role, self.device)
    }
}

/// Tells apart the successive connections that held one address, so that an old
/// connection's clean-up can never unregister the connection that replaced it. Given out
/// by the hub in increasing order; across nodes, a holder is a node and a generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Generation(pub u64);

/// A set of connections that hear the same messages, in one order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Group {
    /// The chat hub, `/ws`: everyone.
    ChatHub,
    /// `/ws/rooms/{room}`.
    Room(RoomName),
    /// `/ws/signal/{room}`; a separate space from rooms of the same name.
    Signal(RoomName),
}

impl Group {
    /// The group's name in keys and channels: `hub`, `room:{room}`, `signal:{room}`.
    pub fn name(&self) -> String {
        match self {
            Group::ChatHub => "hub".to_owned(),
            Group::Room(room) => format!("room:{room}"),
            Group::Signal(room) => format!("signal:{room}"),
        }
    }

    /// The group a [`Group::name`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        if name == "hub" {
            return Some(Group::ChatHub);
        }
        let (kind, room) = name.split_once(':')?;
        let room = room.parse().ok()?;
        match kind {
            "room" => Some(Group::Room(room)),
            "signal" => Some(Group::Signal(room)),
            _ => None,
        }
    }

    /// Whether the group keeps a roster, sequence numbers and history (rooms and
    /// signaling rooms do; the chat hub is a plain broadcast).
    pub fn keeps_roster(&self) -> bool {
        !matches!(self, Group::ChatHub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_read_back() {
        for group in [
            Group::ChatHub,
            Group::Room("a.b".parse().unwrap()),
            Group::Signal("c".parse().unwrap()),
        ] {
            assert_eq!(Group::from_name(&group.name()), Some(group));
        }
        for bad in ["", "room:", "room:a b", "other:x", "hub:x"] {
            assert_eq!(Group::from_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_counterpart_is_the_other_side_of_the_pair() {
        let device = DeviceId::new(uuid::Uuid::from_u128(9));
        assert_eq!(Peer::display(device).counterpart(), Peer::controller(device));
        assert_eq!(Peer::controller(device).counterpart(), Peer::display(device));
    }
}
