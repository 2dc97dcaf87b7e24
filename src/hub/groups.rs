//! This node's members of groups (the chat hub, rooms, signaling rooms), and all that is
//! handed to them: each group's envelopes in the group's order, welcomes and replays,
//! direct messages (signaling).
//!
//! A joining member is first registered here as *pending*: what arrives for its group
//! meanwhile is kept aside. Once the backplane has added it and taken the group's
//! snapshot, the member gets its welcome, the replay, then whatever arrived after the
//! snapshot, skipping what the snapshot already reflects. So the welcome comes first
//! and nothing is missed or repeated, with one node or many. Fan-out only pushes to
//! queues, never waits: one slow member cannot stall the others (its full queue closes
//! it with 1013; it can rejoin with `?since=` and recover).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tungstenite::{Message, Utf8Bytes};

use super::{Census, Hub, SendError, lock, push_error};
use crate::address::Group;
use crate::backplane::{Envelope, Publication, Routed, Snapshot, Unavailable};
use crate::protocol::close::Close;
use crate::protocol::rooms::MemberCard;
use crate::protocol::{ClientId, Frame};
use crate::session::close_frame;
use crate::session::outbox::Outbox;

/// The group as a joining member finds it, for its welcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The members already there, in join order; `None` in a group too big to list.
    pub others: Option<Vec<MemberCard>>,
    /// How many members the group has, the joiner included.
    pub count: usize,
    /// Whether the joiner will be told of joins and leaves: it asked to be, and the
    /// group was small enough to list. Decided once, for as long as it stays.
    pub notices: bool,
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
    /// Told to the remaining members when this one leaves (or its node dies).
    pub farewell: Option<Message>,
    /// Whether this member wants the others' notices (rooms' `?notices=`); it gets them
    /// only if the group is also small enough to list its members when it joins.
    pub wants_notices: bool,
}

/// This node's members, by group; each group has its own lock, taken after the map's.
#[derive(Default)]
pub(super) struct Groups(Mutex<HashMap<Group, Arc<Mutex<Members>>>>);

type Members = HashMap<ClientId, Member>;

struct Member {
    outbox: Outbox,
    card: MemberCard,
    farewell: Option<Message>,
    /// The last envelope handed to this member.
    cursor: u64,
    /// Whether join and leave notices are handed to it (set when it is admitted).
    notices: bool,
    /// While joining: what arrived meanwhile, in order.
    pending: Option<Vec<Pending>>,
}

/// Something for a member that is still joining, kept until its welcome is out.
enum Pending {
    Envelope(Envelope),
    /// A message for this member alone (signaling).
    Direct(Message),
}

impl Member {
    /// Hands over `envelope` unless the member already had it or is the one it excludes.
    fn hand_over(&mut self, id: ClientId, envelope: &Envelope) {
        if envelope.event <= self.cursor {
            return;
        }
        self.cursor = envelope.event;
        if envelope.is_notice() && !self.notices {
            return;
        }
        if envelope.except != Some(id) {
            // A full queue closes its member (1013); the connection leaves as it ends.
            let _ = self.outbox.push(envelope.message.clone());
        }
    }
}

/// For a member that saw up to `since`, in a group whose last message is `seq` and which
/// keeps its last `retained` messages: whether every message it missed is still kept,
/// and how many of the kept ones to skip before the replay.
fn missed_since(seq: u64, retained: usize, since: u64) -> (bool, usize) {
    // Saturating: a history longer than its counter (state lost in Redis) is not trusted.
    let first_retained = (seq + 1).saturating_sub(retained as u64);
    let recovered = since <= seq && since + 1 >= first_retained;
    // Not recoverable: replay all that is kept, so the client sees where its gap is.
    let skip = if recovered {
        (since + 1 - first_retained) as usize
    } else {
        0
    };
    (recovered, skip)
}

/// What a member joining with `since` is told and replayed: whether nothing it missed is
/// gone, and the kept messages after `since` (all of them when some are gone).
fn replay(snapshot: &Snapshot, since: Option<u64>) -> (Option<bool>, &[Utf8Bytes]) {
    let Some(since) = since else { return (None, &[]) };
    let (recovered, skip) = missed_since(snapshot.seq, snapshot.history.len(), since);
    (Some(recovered), &snapshot.history[skip..])
}

impl Groups {
    fn get(&self, group: &Group) -> Option<Arc<Mutex<Members>>> {
        lock(&self.0).get(group).cloned()
    }

    fn add_pending(&self, group: &Group, card: MemberCard, outbox: Outbox, farewell: Option<Message>) {
        let mut groups = lock(&self.0);
        let members = groups.entry(group.clone()).or_default().clone();
        let member = Member {
            outbox,
            card: card.clone(),
            farewell,
            cursor: 0,
            notices: false,
            pending: Some(Vec::new()),
        };
        lock(&members).insert(card.id, member);
    }

    /// Removes member `id`; returns its farewell if it was here.
    fn remove(&self, group: &Group, id: ClientId) -> Option<Option<Message>> {
        let mut groups = lock(&self.0);
        let members = groups.get(group).cloned()?;
        let mut members = lock(&members);
        let removed = members.remove(&id).map(|member| member.farewell);
        if members.is_empty() {
            groups.remove(group);
        }
        removed
    }

    /// Ends member `id`'s join: its welcome, the replay, then what arrived meanwhile.
    fn admit(
        &self,
        group: &Group,
        id: ClientId,
        mut snapshot: Snapshot,
        since: Option<u64>,
        welcome: Option<super::Welcome>,
        wants_notices: bool,
    ) {
        let Some(members) = self.get(group) else { return };
        let mut members = lock(&members);
        // Gone already (its connection ended while joining): nothing to tell.
        let Some(member) = members.get_mut(&id) else { return };
        let others = snapshot.others.take();
        let (recovered, replayed) = replay(&snapshot, since);
        member.notices = wants_notices && others.is_some();
        if let Some(welcome) = welcome {
            let roster = Roster {
                others,
                count: snapshot.count,
                notices: member.notices,
                seq: snapshot.seq,
                recovered,
            };
            let _ = member.outbox.push(welcome(&roster));
        }
        for message in replayed {
            let _ = member.outbox.push(Message::Text(message.clone()));
        }
        member.cursor = snapshot.event;
        for pending in member.pending.take().unwrap_or_default() {
            match pending {
                Pending::Envelope(envelope) => member.hand_over(id, &envelope),
                Pending::Direct(message) => {
                    let _ = member.outbox.push(message);
                }
            }
        }
    }

    /// A message of `group`: to each member here, in the group's order.
    pub(super) fn envelope(&self, group: &Group, envelope: Envelope) {
        let Some(members) = self.get(group) else { return };
        for (id, member) in lock(&members).iter_mut() {
            match member.pending.as_mut() {
                Some(pending) => pending.push(Pending::Envelope(envelope.clone())),
                None => member.hand_over(*id, &envelope),
            }
        }
    }

    /// Pushes to member `to` if it is here (after its welcome, if it is joining).
    pub(super) fn push_to(&self, group: &Group, to: ClientId, message: Message) -> Option<Result<(), SendError>> {
        let members = self.get(group)?;
        let mut members = lock(&members);
        let member = members.get_mut(&to)?;
        if let Some(pending) = member.pending.as_mut() {
            pending.push(Pending::Direct(message));
            return Some(Ok(()));
        }
        Some(member.outbox.push(message).map_err(push_error))
    }

    /// Closes every member here with `close` (they must rejoin).
    pub(super) fn close_all(&self, close: Close) {
        let groups: Vec<Arc<Mutex<Members>>> = lock(&self.0).values().cloned().collect();
        for members in groups {
            for member in lock(&members).values() {
                member.outbox.close(close_frame(close));
            }
        }
    }

    /// Every member here of a group that keeps a roster, with its farewell.
    pub(super) fn cards(&self) -> Vec<(Group, MemberCard, Option<Message>)> {
        let groups: Vec<(Group, Arc<Mutex<Members>>)> = lock(&self.0)
            .iter()
            .map(|(group, members)| (group.clone(), members.clone()))
            .collect();
        groups
            .into_iter()
            .filter(|(group, _)| group.keeps_roster())
            .flat_map(|(group, members)| {
                let cards: Vec<(MemberCard, Option<Message>)> = lock(&members)
                    .values()
                    .map(|member| (member.card.clone(), member.farewell.clone()))
                    .collect();
                cards
                    .into_iter()
                    .map(move |(card, farewell)| (group.clone(), card, farewell))
            })
            .collect()
    }

    /// Members here, by kind of group. Displays and controllers are left at 0.
    pub(super) fn census(&self) -> Census {
        let groups: Vec<(Group, Arc<Mutex<Members>>)> = lock(&self.0)
            .iter()
            .map(|(group, members)| (group.clone(), members.clone()))
            .collect();
        let mut census = Census::default();
        for (group, members) in groups {
            let count = lock(&members).len();
            if count == 0 {
                continue;
            }
            match group {
                Group::ChatHub => census.hub_clients += count,
                Group::Room(_) => {
                    census.rooms += 1;
                    census.room_members += count;
                }
                Group::Signal(_) => {
                    census.signal_rooms += 1;
                    census.signal_peers += count;
                }
            }
        }
        census
    }
}

impl Hub {
    /// Adds a member to `group`: its welcome and replay are queued first, then the
    /// others are told, all before any later message of the group.
    pub async fn join(&self, group: &Group, joining: Joining) -> Result<(), Unavailable> {
        let Joining {
            card,
            outbox,
            since,
            welcome,
            notice,
            farewell,
            wants_notices,
        } = joining;
        let id = card.id;
        self.groups.add_pending(group, card.clone(), outbox, farewell.clone());
        match self
            .backplane
            .join(group, &card, notice.as_ref(), farewell.as_ref())
            .await
        {
            Ok(snapshot) => {
                self.groups.admit(group, id, snapshot, since, welcome, wants_notices);
                Ok(())
            }
            Err(err) => {
                self.groups.remove(group, id);
                Err(err)
            }
        }
    }

    /// Every member of `group` now, in join order, wherever they are.
    pub async fn roster(&self, group: &Group) -> Result<Vec<MemberCard>, Unavailable> {
        self.backplane.roster(group).await
    }

    /// Removes member `id` (if it is here) and tells the rest its farewell.
    pub async fn leave(&self, group: &Group, id: ClientId) {
        if let Some(farewell) = self.groups.remove(group, id) {
            self.backplane.leave(group, id, farewell.as_ref()).await;
        }
    }

    /// Queues `publication` for every member of `group`, the sender included; returns
    /// the sequence number given to a sequenced one. Never waits on a member.
    pub async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable> {
        self.backplane.publish(group, publication).await
    }

    /// Queues `message` for member `to` of `group`, wherever it is, without waiting.
    pub async fn deliver_to_member(&self, group: &Group, to: ClientId, message: Message) -> Result<(), SendError> {
        if let Some(result) = self.groups.push_to(group, to, message.clone()) {
            return result;
        }
        let Some(node) = self.backplane.locate_member(group, to).await? else {
            return Err(SendError::Offline);
        };
        let Some(frame) = Frame::of(&message) else {
            return Err(SendError::Offline);
        };
        let routed = Routed::Member {
            group: group.name(),
            id: to,
            frame,
        };
        self.backplane.route(&node, routed).await?.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(seq: u64, retained: u64) -> Snapshot {
        Snapshot {
            seq,
            history: ((seq + 1 - retained)..=seq)
                .map(|n| Utf8Bytes::from(n.to_string()))
                .collect(),
            ..Snapshot::default()
        }
    }

    fn seqs(replayed: &[Utf8Bytes]) -> Vec<u64> {
        replayed.iter().map(|m| m.as_str().parse().unwrap()).collect()
    }

    #[test]
    fn a_member_back_in_time_gets_exactly_what_it_missed() {
        let kept = snapshot(5, 3);
        let (recovered, replayed) = replay(&kept, Some(3));
        assert_eq!((recovered, seqs(replayed)), (Some(true), vec![4, 5]));
        let (recovered, replayed) = replay(&kept, Some(5));
        assert_eq!((recovered, seqs(replayed)), (Some(true), vec![]));
    }

    #[test]
    fn a_member_too_far_behind_gets_what_is_kept_and_is_told() {
        let kept = snapshot(5, 3);
        let (recovered, replayed) = replay(&kept, Some(1));
        assert_eq!((recovered, seqs(replayed)), (Some(false), vec![3, 4, 5]));
        // Ahead of the room: the room was forgotten and started again.
        let (recovered, replayed) = replay(&kept, Some(9));
        assert_eq!((recovered, seqs(replayed)), (Some(false), vec![3, 4, 5]));
        assert_eq!(replay(&kept, None), (None, &[][..]));
    }
}
