//! The backplane of a server alone: no other node to tell. It keeps what a cluster keeps
//! in Redis (each group's order, roster, sequence numbers and history, and the pairing
//! codes) in memory, and hands each group's envelopes straight back to the hub.
//!
//! Every change to a group happens under that group's lock, and its envelope reaches the
//! hub before the lock is let go: so the hub receives each group's envelopes in the
//! group's order, as the Redis backplane's subscription delivers them.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tungstenite::{Message, Utf8Bytes};

use super::codes::{CodeTable, IssuedCode};
use super::guesses::{Attempt, GuessLimit, GuessTable};
use super::{
    Backplane, CatalogChange, Envelope, Inbound, NodeId, Outcome, Publication, RoomPolicy, Routed, Snapshot,
    Unavailable, Wait,
};
use crate::address::{Generation, Group, Peer};
use crate::lifecycle::Tasks;
use crate::protocol::pairing::PairingCode;
use crate::protocol::parcel::Parcel;
use crate::protocol::rooms::MemberCard;
use crate::protocol::{ClientId, DeviceId, Role};

type Groups = Arc<Mutex<HashMap<Group, Arc<Mutex<Stored>>>>>;

/// The in-process backplane.
pub struct Solo {
    groups: Groups,
    codes: Mutex<CodeTable>,
    guesses: GuessTable,
    policy: RoomPolicy,
    inbound: OnceLock<Weak<dyn Inbound>>,
    tasks: OnceLock<Tasks>,
}

/// One group, as a cluster would keep it in Redis.
#[derive(Debug, Default)]
struct Stored {
    /// Members and their join order.
    roster: HashMap<ClientId, (u64, MemberCard)>,
    next_order: u64,
    /// The last sequence number given (0 before the first message).
    seq: u64,
    /// The last envelope's number.
    event: u64,
    /// The last messages, oldest first; the last one has sequence number `seq`.
    history: VecDeque<Utf8Bytes>,
    /// Counts joins, so that a pending clean-up of an empty room knows it went stale.
    joins: u64,
}

/// The members of a group, in join order.
fn in_join_order(stored: &Stored) -> Vec<MemberCard> {
    let mut members: Vec<&(u64, MemberCard)> = stored.roster.values().collect();
    members.sort_unstable_by_key(|(order, _)| *order);
    members.into_iter().map(|(_, card)| card.clone()).collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // What a panicking holder left is still a consistent map: keep going.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Solo {
    pub fn new(policy: RoomPolicy, guesses: GuessLimit) -> Self {
        Self {
            groups: Arc::default(),
            codes: Mutex::default(),
            guesses: GuessTable::new(guesses),
            policy,
            inbound: OnceLock::new(),
            tasks: OnceLock::new(),
        }
    }

    fn group(&self, group: &Group) -> Option<Arc<Mutex<Stored>>> {
        lock(&self.groups).get(group).cloned()
    }

    /// Numbers the next envelope of `stored` and hands it to the hub, under the group's lock.
    fn send(&self, group: &Group, stored: &mut Stored, message: Message, except: Option<ClientId>) {
        stored.event += 1;
        let envelope = Envelope {
            event: stored.event,
            except,
            message,
        };
        if let Some(inbound) = self.inbound.get().and_then(Weak::upgrade) {
            inbound.envelope(group, envelope);
        }
    }

    /// Forgets `group` after the retention period unless someone joined meanwhile: an
    /// empty room keeps its history for members that come back with `?since=`.
    fn forget_later(&self, group: &Group, joins: u64) {
        let Some(tasks) = self.tasks.get() else { return };
        let (groups, group, retention) = (self.groups.clone(), group.clone(), self.policy.retention);
        tasks.spawn(async move {
            tokio::time::sleep(retention).await;
            let mut groups = lock(&groups);
            let expired = groups.get(&group).is_some_and(|shared| {
                let stored = lock(shared);
                stored.roster.is_empty() && stored.joins == joins
            });
            if expired {
                groups.remove(&group);
            }
        });
    }

    /// How many groups are kept now (for tests of clean-up).
    pub fn group_count(&self) -> usize {
        lock(&self.groups).len()
    }
}

#[async_trait]
impl Backplane for Solo {
    fn start(&self, inbound: Weak<dyn Inbound>, tasks: &Tasks) {
        let _ = self.inbound.set(inbound);
        let _ = self.tasks.set(tasks.clone());
    }

    /// Alone, the hub's own map says who holds an address.
    async fn claim(&self, _peer: Peer, _generation: Generation) -> Result<(), Unavailable> {
        Ok(())
    }

    async fn release(&self, peer: Peer, _generation: Generation) -> Result<bool, Unavailable> {
        if peer.role == Role::Display {
            lock(&self.codes).revoke(peer.device);
        }
        Ok(true)
    }

    /// The display's own handler hands it what was held.
    async fn announce_display(&self, _device: DeviceId) {}

    async fn locate(&self, _peer: Peer) -> Result<Option<NodeId>, Unavailable> {
        Ok(None)
    }

    async fn locate_member(&self, _group: &Group, _id: ClientId) -> Result<Option<NodeId>, Unavailable> {
        Ok(None)
    }

    async fn route(&self, _node: &NodeId, _routed: Routed) -> Result<Outcome, Unavailable> {
        Ok(Outcome::Offline)
    }

    async fn route_to_peer(&self, _peer: Peer, _parcel: Parcel, _wait: Wait) -> Result<Outcome, Unavailable> {
        Ok(Outcome::Offline)
    }

    async fn join(
        &self,
        group: &Group,
        card: &MemberCard,
        notice: Option<&Message>,
        _farewell: Option<&Message>,
    ) -> Result<Snapshot, Unavailable> {
        let mut groups = lock(&self.groups);
        let shared = groups.entry(group.clone()).or_default().clone();
        // Taken before the map's lock is let go, so that a clean-up cannot remove the
        // group between finding it and joining it (clean-ups take the locks in this order).
        let mut stored = lock(&shared);
        drop(groups);
        if let Some(notice) = notice {
            self.send(group, &mut stored, notice.clone(), Some(card.id));
        }
        let count = if group.keeps_roster() {
            stored.roster.len() + 1
        } else {
            0
        };
        let listed = self.policy.listed_up_to(group).is_none_or(|limit| count <= limit);
        let snapshot = Snapshot {
            others: listed.then(|| in_join_order(&stored)),
            count,
            seq: stored.seq,
            history: stored.history.iter().cloned().collect(),
            event: stored.event,
        };
        let order = stored.next_order;
        stored.next_order += 1;
        stored.joins += 1;
        stored.roster.insert(card.id, (order, card.clone()));
        Ok(snapshot)
    }

    async fn roster(&self, group: &Group) -> Result<Vec<MemberCard>, Unavailable> {
        Ok(self
            .group(group)
            .map(|shared| in_join_order(&lock(&shared)))
            .unwrap_or_default())
    }

    async fn leave(&self, group: &Group, id: ClientId, farewell: Option<&Message>) {
        let mut groups = lock(&self.groups);
        let Some(shared) = groups.get(group).cloned() else {
            return;
        };
        let mut stored = lock(&shared);
        if stored.roster.remove(&id).is_none() {
            return;
        }
        if let Some(farewell) = farewell {
            self.send(group, &mut stored, farewell.clone(), Some(id));
        }
        if !stored.roster.is_empty() {
            return;
        }
        if stored.history.is_empty() || self.policy.retention.is_zero() {
            groups.remove(group);
        } else {
            self.forget_later(group, stored.joins);
        }
    }

    async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable> {
        let Some(shared) = self.group(group) else {
            return Ok(None);
        };
        let mut stored = lock(&shared);
        match publication {
            Publication::Plain(message) => {
                self.send(group, &mut stored, message, None);
                Ok(None)
            }
            Publication::Sequenced(template) => {
                stored.seq += 1;
                let seq = stored.seq;
                let text = Utf8Bytes::from(template.complete(seq));
                if self.policy.history > 0 {
                    if stored.history.len() >= self.policy.history {
                        stored.history.pop_front();
                    }
                    stored.history.push_back(text.clone());
                }
                self.send(group, &mut stored, Message::Text(text), None);
                Ok(Some(seq))
            }
        }
    }

    async fn issue_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, Unavailable> {
        Ok(lock(&self.codes).issue(device, ttl))
    }

    async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
        Ok(lock(&self.codes).resolve(code))
    }

    async fn attempt_guess(&self, client: IpAddr) -> Result<Result<Attempt, Duration>, Unavailable> {
        Ok(self.guesses.attempt(client))
    }

    async fn give_back_guess(&self, attempt: Attempt) {
        self.guesses.give_back(attempt);
    }

    async fn readiness(&self) -> Result<(), Unavailable> {
        Ok(())
    }

    /// One process: its catalogue was already changed by the write itself.
    async fn catalog_changed(&self, _change: CatalogChange) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::rooms::message_template;

    fn room() -> Group {
        Group::Room("r".parse().unwrap())
    }

    fn card() -> MemberCard {
        MemberCard {
            id: ClientId::random(),
            name: None,
        }
    }

    async fn say(solo: &Solo) -> Option<u64> {
        let data = serde_json::value::RawValue::from_string("1".to_owned()).unwrap();
        let template = message_template(&"r".parse().unwrap(), ClientId::random(), None, &data);
        solo.publish(&room(), Publication::Sequenced(template)).await.unwrap()
    }

    /// A solo backplane behind a hub, as a server alone runs it.
    fn started(policy: RoomPolicy) -> (Arc<Solo>, Arc<crate::hub::Hub>) {
        let solo = Arc::new(Solo::new(policy, GuessLimit::default()));
        let hub = crate::hub::Hub::new(solo.clone(), Duration::from_secs(1), &Tasks::new());
        (solo, hub)
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_room_is_forgotten_after_the_retention_period() {
        let retention = Duration::from_secs(60);
        let (solo, _hub) = started(RoomPolicy {
            history: 10,
            retention,
            ..RoomPolicy::default()
        });
        let member = card();
        solo.join(&room(), &member, None, None).await.unwrap();
        assert_eq!(say(&solo).await, Some(1));
        solo.leave(&room(), member.id, None).await;
        tokio::time::sleep(retention - Duration::from_secs(1)).await;
        assert_eq!(solo.group_count(), 1, "kept during the retention period");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(solo.group_count(), 0, "forgotten after it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_member_joining_during_retention_keeps_the_room() {
        let retention = Duration::from_secs(60);
        let (solo, _hub) = started(RoomPolicy {
            history: 10,
            retention,
            ..RoomPolicy::default()
        });
        let first = card();
        solo.join(&room(), &first, None, None).await.unwrap();
        say(&solo).await;
        solo.leave(&room(), first.id, None).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        let snapshot = solo.join(&room(), &card(), None, None).await.unwrap();
        assert_eq!((snapshot.seq, snapshot.history.len()), (1, 1));
        tokio::time::sleep(retention * 2).await;
        assert_eq!(say(&solo).await, Some(2), "the room and its seq lived on");
    }

    #[tokio::test]
    async fn groups_without_history_go_when_their_last_member_does() {
        let (solo, _hub) = started(RoomPolicy::default());
        let member = card();
        solo.join(&Group::ChatHub, &member, None, None).await.unwrap();
        solo.leave(&Group::ChatHub, member.id, None).await;
        assert_eq!(solo.group_count(), 0);
    }

    #[tokio::test]
    async fn history_is_capped_and_joiners_find_the_others_in_join_order() {
        let (solo, _hub) = started(RoomPolicy {
            history: 3,
            retention: Duration::from_secs(60),
            notices_up_to: 3,
        });
        let (a, b) = (card(), card());
        solo.join(&room(), &a, None, None).await.unwrap();
        solo.join(&room(), &b, None, None).await.unwrap();
        for _ in 0..5 {
            say(&solo).await;
        }
        let snapshot = solo.join(&room(), &card(), None, None).await.unwrap();
        assert_eq!((snapshot.others, snapshot.count), (Some(vec![a, b]), 3));
        assert_eq!((snapshot.seq, snapshot.history.len()), (5, 3));
        assert!(snapshot.history[0].as_str().contains(r#""seq":3"#));
        let past_the_limit = solo.join(&room(), &card(), None, None).await.unwrap();
        assert_eq!(
            (past_the_limit.others, past_the_limit.count),
            (None, 4),
            "counted, not listed"
        );
        assert_eq!(solo.roster(&room()).await.unwrap().len(), 4);
    }
}
