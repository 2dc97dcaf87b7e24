//! What nodes say to each other through Redis, and the names of the keys and channels.
//!
//! Node channels carry JSON ([`NodeMessage`]): deliveries routed to a connection held by
//! that node, and their outcomes. Group channels carry envelopes in a small text form
//! that the Lua scripts can build: `{kind}|{event}|{seq}|{except}\n{payload}`.

use axum::body::Bytes;
use serde::{Deserialize, Serialize};
use tungstenite::{Message, Utf8Bytes};

use crate::address::{Group, Peer};
use crate::backplane::{Envelope, Outcome, Routed};

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

    /// Pairing-code misses of one client address in the current window.
    pub fn guesses(&self, client: std::net::IpAddr) -> String {
        format!("{}guesses:{client}", self.prefix)
    }

    pub fn code_of(&self, device: &str) -> String {
        format!("{}codeof:{device}", self.prefix)
    }

    pub fn group_channel(&self, group: &Group) -> String {
        format!("{}group:{}", self.prefix, group.name())
    }

    /// The group a channel name belongs to.
    pub fn group_of_channel(&self, channel: &str) -> Option<Group> {
        Group::from_name(channel.strip_prefix(&self.prefix)?.strip_prefix("group:")?)
    }

    /// Members (hash id → card), sequence and event counters, history, join order.
    pub fn group_keys(&self, group: &Group) -> [String; 5] {
        let name = group.name();
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

/// A message on a node's channel: `{"route":{…}}`, `{"outcome":{…}}`, `{"replaced":{…}}`.
///
/// Externally tagged, as are the [`Routed`] and [`Parcel`] inside it: serde reads an
/// internally tagged enum (`{"k":"route",…}`) by buffering the whole object before it
/// looks at the tag, and with three nested that cost a cross-node draw about 6,000
/// instructions on the receiving node (docs/benchmarks.md).
///
/// [`Parcel`]: crate::protocol::parcel::Parcel
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeMessage {
    /// Deliver `routed` to a connection of this node, answer on `reply_to`'s channel.
    Route {
        req: u64,
        reply_to: String,
        routed: Routed,
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

/// [`NodeMessage::Route`] as this node writes it, borrowing its delivery (which a
/// sender may have to route again, to another node).
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outgoing<'a> {
    Route {
        req: u64,
        reply_to: &'a str,
        routed: &'a Routed,
    },
}

/// The node messages of one publish on a node's channel: one message, or several as a
/// JSON array (a courier's batch).
pub fn parse_node_messages(payload: &[u8]) -> serde_json::Result<Vec<NodeMessage>> {
    if payload.first() == Some(&b'[') {
        serde_json::from_slice(payload)
    } else {
        serde_json::from_slice(payload).map(|message| vec![message])
    }
}

/// Reads an envelope off a group's channel.
pub fn parse_envelope(payload: &Bytes) -> Option<Envelope> {
    let newline = payload.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&payload[..newline]).ok()?;
    let body = payload.slice(newline + 1..);
    let mut fields = header.split('|');
    let kind = fields.next()?;
    let event = fields.next()?.parse().ok()?;
    let _seq = fields.next()?;
    let except = match fields.next()? {
        "" => None,
        id => Some(id.parse().ok()?),
    };
    let message = match kind {
        "t" => Message::Text(Utf8Bytes::try_from(body).ok()?),
        "b" => Message::Binary(body),
        _ => return None,
    };
    Some(Envelope { event, except, message })
}

/// The header's kind and the payload bytes of a message, for the scripts.
pub fn kind_and_body(message: &Message) -> Option<(&'static str, &[u8])> {
    match message {
        Message::Text(text) => Some(("t", text.as_bytes())),
        Message::Binary(bytes) => Some(("b", bytes)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ClientId;

    #[test]
    fn envelopes_read_what_the_scripts_write() {
        let id = ClientId::random();
        let envelope = parse_envelope(&Bytes::from(format!("t|7|3|{id}\n{{\"a\":1}}"))).unwrap();
        assert_eq!(
            envelope,
            Envelope {
                event: 7,
                except: Some(id),
                message: Message::Text("{\"a\":1}".into())
            }
        );
        let binary = parse_envelope(&Bytes::from_static(b"b|1||\n\x00\n\xff")).unwrap();
        assert_eq!(binary.except, None);
        assert_eq!(binary.message, Message::Binary(vec![0, b'\n', 0xff].into()));
        for bad in [&b"t|x||\nhi"[..], b"no header", b"q|1||\nx", b"t|1||\n\xff"] {
            assert!(parse_envelope(&Bytes::copy_from_slice(bad)).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn node_messages_are_read_alone_or_batched() {
        let peer = Peer::display("de358130-e94a-5692-8b09-d27007ad1944".parse().unwrap());
        let routed = Routed::Peer {
            peer,
            parcel: crate::protocol::parcel::Parcel::Presence {
                role: crate::protocol::Role::Controller,
                connected: true,
            },
            wait: crate::backplane::Wait::Written,
        };
        let route = serde_json::to_string(&Outgoing::Route {
            req: 7,
            reply_to: "b",
            routed: &routed,
        })
        .unwrap();
        let outcome = serde_json::to_string(&NodeMessage::Outcome {
            req: 3,
            outcome: Outcome::NotHeld,
        })
        .unwrap();
        let alone = parse_node_messages(route.as_bytes()).unwrap();
        assert!(matches!(&alone[..], [NodeMessage::Route { req: 7, reply_to, .. }] if reply_to == "b"));
        let batch = parse_node_messages(format!("[{route},{outcome}]").as_bytes()).unwrap();
        assert!(matches!(
            &batch[..],
            [
                NodeMessage::Route { .. },
                NodeMessage::Outcome {
                    req: 3,
                    outcome: Outcome::NotHeld
                }
            ]
        ));
        for bad in [&b""[..], b"[", b"{}", b"[{\"k\":\"nope\"}]"] {
            assert!(parse_node_messages(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn group_channels_name_their_group() {
        let keys = Keys::new("p:");
        for group in [
            Group::ChatHub,
            Group::Room("a.b".parse().unwrap()),
            Group::Signal("c".parse().unwrap()),
        ] {
            assert_eq!(keys.group_of_channel(&keys.group_channel(&group)), Some(group));
        }
        assert_eq!(keys.group_of_channel("p:node:x"), None);
        assert_eq!(keys.group_of_channel("other:group:hub"), None);
    }
}
