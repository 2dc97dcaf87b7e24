//! Groups in this process: the chat hub, rooms and signaling rooms, each a set of member
//! outboxes with, for rooms, a sequence counter and the last messages kept for recovery.
//!
//! Every change to a group (join, leave, a message) happens under that group's lock, and
//! fan-out only pushes to queues, never waits: so all members see one order, a joiner's
//! welcome and replay come before any live message, and one slow member cannot stall the
//! others (its full queue closes it with 1013; it can rejoin with `?since=` and recover).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::{Message, Utf8Bytes};

use super::{Census, Group, Joining, Publication, RoomPolicy, Roster, SendError};
use crate::protocol::ClientId;
use crate::protocol::rooms::MemberCard;
use crate::session::outbox::{Outbox, PushError};

/// All groups with members (or, for rooms, with history still retained).
#[derive(Debug, Clone)]
pub struct LocalGroups {
    groups: Arc<Mutex<HashMap<Group, Arc<Mutex<GroupState>>>>>,
    policy: RoomPolicy,
}

#[derive(Debug, Default)]
struct GroupState {
    members: HashMap<ClientId, Slot>,
    /// Join order of the next member.
    next_order: u64,
    /// The last sequence number given (0 before the first message).
    seq: u64,
    /// The last messages, oldest first; the last one has sequence number `seq`.
    history: VecDeque<Utf8Bytes>,
    /// Counts joins, so that a pending clean-up of an empty room knows it went stale.
    joins: u64,
}

#[derive(Debug)]
struct Slot {
    order: u64,
    card: MemberCard,
    outbox: Outbox,
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

/// What a member joining with `since` is told and replayed, from a group whose last
/// message is `seq` and which keeps `history` (oldest first): whether nothing it missed is
/// gone, and the kept messages after `since` (all of them when some are gone).
pub fn replay<'a, T: Clone + 'a>(
    seq: u64,
    history: impl IntoIterator<Item = &'a T, IntoIter: ExactSizeIterator>,
    since: Option<u64>,
) -> (Option<bool>, Vec<T>) {
    let Some(since) = since else { return (None, Vec::new()) };
    let history = history.into_iter();
    let (recovered, skip) = missed_since(seq, history.len(), since);
    (Some(recovered), history.skip(skip).cloned().collect())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // State left by a panicking holder is still a consistent map of queues: keep going.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GroupState {
    fn others(&self) -> Vec<MemberCard> {
        let mut slots: Vec<&Slot> = self.members.values().collect();
        slots.sort_unstable_by_key(|slot| slot.order);
        slots.into_iter().map(|slot| slot.card.clone()).collect()
    }

    fn push_to_all(&self, message: &Message) {
        for slot in self.members.values() {
            // A full queue has closed its member (see `Outbox::push`); its connection
            // leaves the group as it ends.
            let _ = slot.outbox.push(message.clone());
        }
    }
}

impl LocalGroups {
    pub fn new(policy: RoomPolicy) -> Self {
        Self {
            groups: Arc::default(),
            policy,
        }
    }

    fn get(&self, group: &Group) -> Option<Arc<Mutex<GroupState>>> {
        lock(&self.groups).get(group).cloned()
    }

    pub fn join(&self, group: &Group, joining: Joining) {
        let mut groups = lock(&self.groups);
        let shared = groups.entry(group.clone()).or_default().clone();
        // Taken before the map's lock is let go, so that a clean-up cannot remove the
        // group between finding it and joining it (clean-ups take the locks in the same order).
        let mut state = lock(&shared);
        drop(groups);

        let Joining {
            card,
            outbox,
            since,
            welcome,
            notice,
        } = joining;
        let (recovered, missed) = replay(state.seq, &state.history, since);
        if let Some(welcome) = welcome {
            let roster = Roster {
                others: state.others(),
                seq: state.seq,
                recovered,
            };
            let _ = outbox.push(welcome(&roster));
        }
        for message in missed {
            let _ = outbox.push(Message::Text(message));
        }
        if let Some(notice) = notice {
            state.push_to_all(&notice);
        }
        let order = state.next_order;
        state.next_order += 1;
        state.joins += 1;
        state.members.insert(card.id, Slot { order, card, outbox });
    }

    pub fn leave(&self, group: &Group, id: ClientId, notice: Option<Message>) {
        let mut groups = lock(&self.groups);
        let Some(shared) = groups.get(group).cloned() else {
            return;
        };
        let mut state = lock(&shared);
        if state.members.remove(&id).is_none() {
            return;
        }
        if let Some(notice) = notice {
            state.push_to_all(&notice);
        }
        if !state.members.is_empty() {
            return;
        }
        if state.history.is_empty() || self.policy.retention.is_zero() {
            groups.remove(group);
            return;
        }
        // An empty room keeps its history for the retention period, for members that
        // come back with `?since=`; then it is gone unless someone joined meanwhile.
        let (groups, group, joins, retention) =
            (self.groups.clone(), group.clone(), state.joins, self.policy.retention);
        tokio::spawn(async move {
            tokio::time::sleep(retention).await;
            let mut groups = lock(&groups);
            let expired = groups.get(&group).is_some_and(|shared| {
                let state = lock(shared);
                state.members.is_empty() && state.joins == joins
            });
            if expired {
                groups.remove(&group);
            }
        });
    }

    pub fn publish(&self, group: &Group, publication: Publication) -> Option<u64> {
        let shared = self.get(group)?;
        let mut state = lock(&shared);
        match publication {
            Publication::Plain(message) => {
                state.push_to_all(&message);
                None
            }
            Publication::Sequenced(template) => {
                state.seq += 1;
                let seq = state.seq;
                let text = Utf8Bytes::from(template.complete(seq));
                if self.policy.history > 0 {
                    if state.history.len() == self.policy.history {
                        state.history.pop_front();
                    }
                    state.history.push_back(text.clone());
                }
                state.push_to_all(&Message::Text(text));
                Some(seq)
            }
        }
    }

    pub fn send_to(&self, group: &Group, to: ClientId, message: Message) -> Result<(), SendError> {
        let shared = self.get(group).ok_or(SendError::Offline)?;
        let state = lock(&shared);
        let slot = state.members.get(&to).ok_or(SendError::Offline)?;
        slot.outbox.push(message).map_err(|err| match err {
            PushError::Full => SendError::SlowConsumer,
            PushError::Closed => SendError::Offline,
        })
    }

    /// Members of the groups with members, by kind of group. The displays and
    /// controllers are not groups: they are left at 0.
    pub fn census(&self) -> Census {
        let groups: Vec<(Group, Arc<Mutex<GroupState>>)> = lock(&self.groups)
            .iter()
            .map(|(group, shared)| (group.clone(), shared.clone()))
            .collect();
        let mut census = Census::default();
        for (group, shared) in groups {
            let members = lock(&shared).members.len();
            if members == 0 {
                continue;
            }
            match group {
                Group::Hub => census.hub_clients += members,
                Group::Room(_) => {
                    census.rooms += 1;
                    census.room_members += members;
                }
                Group::Signal(_) => {
                    census.signal_rooms += 1;
                    census.signal_peers += members;
                }
            }
        }
        census
    }

    /// How many groups exist now (for tests of clean-up).
    pub fn len(&self) -> usize {
        lock(&self.groups).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::protocol::rooms::message_template;
    use crate::session::outbox::{Inbox, Outgoing, outbox};

    fn room() -> Group {
        Group::Room("r".parse().unwrap())
    }

    fn member() -> (Joining, Inbox) {
        let (outbox, inbox) = outbox(64);
        let card = MemberCard {
            id: ClientId::random(),
            name: None,
        };
        let joining = Joining {
            card,
            outbox,
            since: None,
            welcome: None,
            notice: None,
        };
        (joining, inbox)
    }

    fn say(groups: &LocalGroups, from: ClientId) -> Option<u64> {
        let data = serde_json::value::RawValue::from_string("1".to_owned()).unwrap();
        let template = message_template(&"r".parse().unwrap(), from, None, &data);
        groups.publish(&room(), Publication::Sequenced(template))
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_room_is_forgotten_after_the_retention_period() {
        let retention = Duration::from_secs(60);
        let groups = LocalGroups::new(RoomPolicy { history: 10, retention });
        let (joining, _inbox) = member();
        let id = joining.card.id;
        groups.join(&room(), joining);
        assert_eq!(say(&groups, id), Some(1));
        groups.leave(&room(), id, None);
        tokio::time::sleep(retention - Duration::from_secs(1)).await;
        assert_eq!(groups.len(), 1, "kept during the retention period");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(groups.is_empty(), "forgotten after it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_member_joining_during_retention_keeps_the_room() {
        let retention = Duration::from_secs(60);
        let groups = LocalGroups::new(RoomPolicy { history: 10, retention });
        let (joining, _inbox) = member();
        let id = joining.card.id;
        groups.join(&room(), joining);
        say(&groups, id);
        groups.leave(&room(), id, None);
        tokio::time::sleep(Duration::from_secs(30)).await;
        let (joining, _inbox2) = member();
        let second = joining.card.id;
        groups.join(&room(), joining);
        tokio::time::sleep(retention * 2).await;
        assert_eq!(say(&groups, second), Some(2), "the room and its seq lived on");
    }

    #[tokio::test]
    async fn the_census_counts_members_by_kind_and_skips_rooms_kept_only_for_recovery() {
        let groups = LocalGroups::new(RoomPolicy::default());
        let (first, _first_inbox) = member();
        let (second, _second_inbox) = member();
        let (leaver, _leaver_inbox) = member();
        let (peer, _peer_inbox) = member();
        let leaver_id = leaver.card.id;
        groups.join(&room(), first);
        groups.join(&room(), second);
        let other_room = Group::Room("other".parse().unwrap());
        groups.join(&other_room, leaver);
        let data = serde_json::value::RawValue::from_string("1".to_owned()).unwrap();
        let template = message_template(&"other".parse().unwrap(), leaver_id, None, &data);
        groups.publish(&other_room, Publication::Sequenced(template));
        groups.leave(&other_room, leaver_id, None);
        assert_eq!(groups.len(), 2, "the empty room is kept for recovery");
        groups.join(&Group::Signal("r".parse().unwrap()), peer);

        let census = groups.census();

        assert_eq!((census.rooms, census.room_members), (1, 2));
        assert_eq!((census.signal_rooms, census.signal_peers), (1, 1));
        assert_eq!(census.hub_clients, 0);
    }

    #[tokio::test]
    async fn groups_without_history_go_when_their_last_member_does() {
        let groups = LocalGroups::new(RoomPolicy::default());
        let (joining, _inbox) = member();
        let id = joining.card.id;
        groups.join(&Group::Hub, joining);
        groups.leave(&Group::Hub, id, None);
        assert!(groups.is_empty());
    }

    #[tokio::test]
    async fn history_is_capped_and_replayed_from_the_right_place() {
        let groups = LocalGroups::new(RoomPolicy {
            history: 3,
            retention: Duration::from_secs(60),
        });
        let (joining, _inbox) = member();
        let id = joining.card.id;
        groups.join(&room(), joining);
        for _ in 0..5 {
            say(&groups, id);
        }
        let (mut joining, mut inbox) = member();
        joining.since = Some(3);
        groups.join(&room(), joining);
        let mut replayed = Vec::new();
        while let Some(Outgoing::Message(message, _)) = inbox.try_next() {
            let value: serde_json::Value = serde_json::from_slice(&message.into_data()).unwrap();
            replayed.push(value["seq"].as_u64().unwrap());
        }
        assert_eq!(replayed, [4, 5]);
    }
}
