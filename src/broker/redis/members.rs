//! This node's members of groups, and handing them what arrives: a group's messages
//! from its channel, direct messages from other nodes, the close that tells them to
//! rejoin. A joining member is *pending*: what arrives for it is kept until its welcome
//! is out.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use axum::extract::ws::Message;

use super::RedisBroker;
use super::wire::{Envelope, Keys, Outcome};
use crate::broker::{Census, Group, SendError};
use crate::protocol::ClientId;
use crate::protocol::rooms::MemberCard;
use crate::session::outbox::{Outbox, PushError};
use crate::session::{close_code, close_frame};

/// This node's members, by group.
#[derive(Default)]
pub struct LocalMembers(Mutex<HashMap<Group, HashMap<ClientId, Member>>>);

pub(super) struct Member {
    pub(super) outbox: Outbox,
    pub(super) card: MemberCard,
    /// The last group event handed to this member.
    pub(super) cursor: u64,
    /// While joining: what arrived meanwhile, in order.
    pub(super) pending: Option<Vec<Pending>>,
}

/// Something for a member that is still joining, kept until its welcome is out.
pub(super) enum Pending {
    Group(Envelope),
    /// A message for this member alone (signaling).
    Direct(Message),
}

impl LocalMembers {
    /// This node's members, by kind of group.
    pub fn census(&self) -> Census {
        let mut census = Census::default();
        for (group, members) in self.lock().iter().filter(|(_, members)| !members.is_empty()) {
            match group {
                Group::Hub => census.hub_clients += members.len(),
                Group::Room(_) => {
                    census.rooms += 1;
                    census.room_members += members.len();
                }
                Group::Signal(_) => {
                    census.signal_rooms += 1;
                    census.signal_peers += members.len();
                }
            }
        }
        census
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<Group, HashMap<ClientId, Member>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Pushes to a member of this node, if it is here; after its welcome if it is joining.
pub(super) fn push_to_local(
    broker: &RedisBroker,
    group: &Group,
    to: ClientId,
    message: &Message,
) -> Option<Result<(), SendError>> {
    let mut all = broker.shared().members.lock();
    let member = all.get_mut(group)?.get_mut(&to)?;
    if let Some(pending) = member.pending.as_mut() {
        pending.push(Pending::Direct(message.clone()));
        return Some(Ok(()));
    }
    Some(member.outbox.push(message.clone()).map_err(|err| match err {
        PushError::Full => SendError::SlowConsumer,
        PushError::Closed => SendError::Offline,
    }))
}

/// Another node's request for a member of this one.
pub fn deliver_to_member_here(broker: &RedisBroker, group: &str, to: ClientId, message: Message) -> Outcome {
    let Some(group) = Keys::group_of_name(group) else {
        return Outcome::Offline;
    };
    match push_to_local(broker, &group, to, &message) {
        Some(Ok(())) => Outcome::Delivered,
        Some(Err(SendError::SlowConsumer)) => Outcome::SlowConsumer,
        _ => Outcome::Offline,
    }
}

/// A message on a group's channel: to each member of this node.
pub fn on_envelope(broker: &RedisBroker, group: &Group, payload: &[u8]) {
    let Some(envelope) = Envelope::parse(payload) else {
        tracing::warn!("unreadable message on a group channel");
        return;
    };
    let mut all = broker.shared().members.lock();
    let Some(members) = all.get_mut(group) else { return };
    for (id, member) in members.iter_mut() {
        match member.pending.as_mut() {
            Some(pending) => pending.push(Pending::Group(envelope.clone())),
            None => hand_over(member, *id, &envelope),
        }
    }
}

/// Gives `envelope` to a member unless it already had it or is the one it excludes.
pub(super) fn hand_over(member: &mut Member, id: ClientId, envelope: &Envelope) {
    if envelope.event <= member.cursor {
        return;
    }
    member.cursor = envelope.event;
    if envelope.except == Some(id) {
        return;
    }
    // A full queue closes its member (1013); the connection leaves as it ends.
    let _ = member.outbox.push(envelope.frame.clone().into_message());
}

/// Closes every group member of this node with 1012: while the subscription was down,
/// messages of their groups may have passed them by. They reconnect, and room members
/// recover with `?since=` what the room still keeps; nothing is skipped silently.
pub fn close_all_members(broker: &RedisBroker) {
    let all = broker.shared().members.lock();
    let frame = close_frame(close_code::SERVICE_RESTART, "reconnect: messages may have been missed");
    for member in all.values().flat_map(HashMap::values) {
        member.outbox.close(frame.clone());
    }
}
