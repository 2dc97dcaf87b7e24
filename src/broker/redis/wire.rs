//! What nodes say to each other through Redis, and the names of the keys and channels.
//!
//! Node channels carry JSON ([`NodeMessage`]): requests to deliver to a connection held
//! by that node, and their outcomes. Group channels carry [`Envelope`]s in a small text
//! form that the Lua scripts can build: `{kind}|{event}|{seq}|{except}\n{payload}`.

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use serde::{Deserialize, Serialize};

use crate::broker::{Group, Peer};
use crate::protocol::ClientId;

/// Key and channel names under one prefix, so several clusters (or tests) share a Redis.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// Exists while the node is alive; refreshed by its heartbeat.
    pub fn alive(&self, node: &str) -> String {
        format!("{}alive:{node}", self.prefix)
    }

    /// Every node that has started (for the janitor).
    pub fn nodes(&self) -> String {
        format!("{}nodes", self.prefix)
    }

    /// What a node has registered, for the janitor to remove if the node dies.
    pub fn node_peers(&self, node: &str) -> String {
        format!("{}node:{node}:peers", self.prefix)
    }

    pub fn node_members(&self, node: &str) -> String {
        format!("{}node:{node}:members", self.prefix)
    }

    /// A node's own channel: requests for connections it holds.
    pub fn node_channel(&self, node: &str) -> String {
        format!("{}node:{node}", self.prefix)
    }

    /// `{node}/{generation}` of the connection holding a pairing address.
    pub fn peer(&self, peer: Peer) -> String {
        format!("{}peer:{}:{}", self.prefix, peer.role, peer.device)
    }

    pub fn code(&self, code: &str) -> String {
        format!("{}code:{code}", self.prefix)
    }

    pub fn code_of(&self, device: &str) -> String {
        format!("{}codeof:{device}", self.prefix)
    }

    /// The part of every key and channel of a group after the prefix.
    pub fn group_name(group: &Group) -> String {
        match group {
            Group::Hub => "hub".to_owned(),
            Group::Room(room) => format!("room:{room}"),
            Group::Signal(room) => format!("signal:{room}"),
        }
    }

    pub fn group_channel(&self, group: &Group) -> String {
        format!("{}group:{}", self.prefix, Self::group_name(group))
    }

    /// The group a channel name belongs to.
    pub fn group_of_channel(&self, channel: &str) -> Option<Group> {
        Self::group_of_name(channel.strip_prefix(&self.prefix)?.strip_prefix("group:")?)
    }

    /// The group of a [`Keys::group_name`].
    pub fn group_of_name(name: &str) -> Option<Group> {
        if name == "hub" {
            return Some(Group::Hub);
        }
        let (kind, room) = name.split_once(':')?;
        let room = room.parse().ok()?;
        match kind {
            "room" => Some(Group::Room(room)),
            "signal" => Some(Group::Signal(room)),
            _ => None,
        }
    }

    /// Members (hash id → card), sequence and event counters, history, join order.
    pub fn group_keys(&self, group: &Group) -> [String; 5] {
        let name = Self::group_name(group);
        let p = &self.prefix;
        [
            format!("{p}members:{name}"),
            format!("{p}seq:{name}"),
            format!("{p}history:{name}"),
            format!("{p}events:{name}"),
            format!("{p}order:{name}"),
        ]
    }

    /// Content API writes, for every node's catalogue.
    pub fn catalog_channel(&self) -> String {
        format!("{}catalog", self.prefix)
    }

    /// Counts the catalogue changes announced, so a node can tell it missed one.
    pub fn catalog_version(&self) -> String {
        format!("{}catalog:version", self.prefix)
    }

    /// Displays attaching anywhere, for held delivery on the controller's node.
    pub fn attached_channel(&self) -> String {
        format!("{}attached", self.prefix)
    }
}

/// A WebSocket message as it crosses nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    pub fn from_message(message: &Message) -> Option<Self> {
        match message {
            Message::Text(text) => Some(Frame::Text(text.to_string())),
            Message::Binary(bytes) => Some(Frame::Binary(bytes.to_vec())),
            _ => None,
        }
    }

    pub fn into_message(self) -> Message {
        match self {
            Frame::Text(text) => Message::Text(Utf8Bytes::from(text)),
            Frame::Binary(bytes) => Message::Binary(Bytes::from(bytes)),
        }
    }
}

/// Whether a delivery is done when queued or only when written to the client's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    Queued,
    Written,
}

/// The answer to a delivery request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    Offline,
    SlowConsumer,
}

/// A message on a node's channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum NodeMessage {
    /// Deliver `frame` to the connection holding `peer`, answer on `reply_to`'s channel.
    Deliver {
        req: u64,
        reply_to: String,
        peer: Peer,
        wait: Wait,
        frame: Frame,
    },
    /// Deliver `frame` to member `to` of the group named `group`.
    Member {
        req: u64,
        reply_to: String,
        group: String,
        to: ClientId,
        frame: Frame,
    },
    Outcome {
        req: u64,
        outcome: Outcome,
    },
    /// A newer connection took `peer`: close ours if it is still `holder`.
    Replaced {
        peer: Peer,
        holder: String,
    },
}

/// A message on a group's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Counts every message of the group, notices included: a joiner skips those at or
    /// before its snapshot.
    pub event: u64,
    /// Rooms' message sequence number.
    pub seq: Option<u64>,
    /// A member not to deliver to (the joiner of its own join notice).
    pub except: Option<ClientId>,
    pub frame: Frame,
}

impl Envelope {
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let newline = payload.iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&payload[..newline]).ok()?;
        let body = &payload[newline + 1..];
        let mut fields = header.split('|');
        let kind = fields.next()?;
        let event = fields.next()?.parse().ok()?;
        let seq = match fields.next()? {
            "" => None,
            seq => Some(seq.parse().ok()?),
        };
        let except = match fields.next()? {
            "" => None,
            id => Some(id.parse().ok()?),
        };
        let frame = match kind {
            "t" => Frame::Text(String::from_utf8(body.to_vec()).ok()?),
            "b" => Frame::Binary(body.to_vec()),
            _ => return None,
        };
        Some(Self {
            event,
            seq,
            except,
            frame,
        })
    }

    /// The header's kind and the payload bytes of a frame, for the scripts.
    pub fn kind_and_body(frame: &Frame) -> (&'static str, &[u8]) {
        match frame {
            Frame::Text(text) => ("t", text.as_bytes()),
            Frame::Binary(bytes) => ("b", bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_read_what_the_scripts_write() {
        let id = ClientId::random();
        let envelope = Envelope::parse(format!("t|7|3|{id}\n{{\"a\":1}}").as_bytes()).unwrap();
        assert_eq!(
            envelope,
            Envelope {
                event: 7,
                seq: Some(3),
                except: Some(id),
                frame: Frame::Text("{\"a\":1}".to_owned())
            }
        );
        let binary = Envelope::parse(b"b|1||\n\x00\n\xff").unwrap();
        assert_eq!((binary.seq, binary.except), (None, None));
        assert_eq!(binary.frame, Frame::Binary(vec![0, b'\n', 0xff]));
        for bad in [&b"t|x||\nhi"[..], b"no header", b"q|1||\nx", b"t|1||\n\xff"] {
            assert!(Envelope::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn group_channels_name_their_group() {
        let keys = Keys::new("p:");
        for group in [
            Group::Hub,
            Group::Room("a.b".parse().unwrap()),
            Group::Signal("c".parse().unwrap()),
        ] {
            assert_eq!(keys.group_of_channel(&keys.group_channel(&group)), Some(group));
        }
        assert_eq!(keys.group_of_channel("p:node:x"), None);
        assert_eq!(keys.group_of_channel("other:group:hub"), None);
    }
}
