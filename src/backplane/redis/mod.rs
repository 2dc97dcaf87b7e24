//! The Redis backplane (`--redis-url`): several pairlink nodes behind a plain load
//! balancer share one pairing space, so a display on node A and its controller on node B
//! find each other.
//!
//! How it is laid out (as the Socket.IO and Centrifugo Redis adapters do it):
//! - Each node has a channel of its own. Who holds each pairing address is a key naming
//!   the node (`peer:{role}:{uuid}` → `{node}/{generation}`); a message for a connection
//!   on another node is published on that node's channel, which answers on the sender's.
//!   So routing needs one subscription per node, not per connection. A node remembers
//!   where it last found each address (`holders.rs`) and looks it up again only when that
//!   node answers that it does not hold it; messages for one node go out in batches
//!   (`courier.rs`).
//! - Each group (hub, room, signaling room) has a channel, subscribed by the nodes that
//!   have members in it. Lua scripts give a room's messages their `seq`, keep its history
//!   and publish them in one step, so every node sees one order.
//! - A node is alive while its `alive:{node}` key exists; its heartbeat refreshes it.
//!   Addresses and members of a node whose key expired count as gone at once; the
//!   janitor (any surviving node) then removes them and tells the groups.
//! - When Redis goes away the node reports not ready and cross-node operations fail with
//!   `broker_unavailable`; when it is back, the node registers its connections again.
//!
//! The backplane never touches a connection: what arrives for this node goes to its hub
//! through [`Inbound`].

mod catalog;
mod courier;
mod groups;
mod holders;
mod janitor;
mod keys;
mod pairs;
mod routing;
mod scripts;
mod subscription;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink};
use tokio::sync::Notify;
use tungstenite::Message;

use super::codes::IssuedCode;
use super::guesses::{Attempt, GuessLimit};
use super::{
    Backplane, CatalogChange, Inbound, NodeId, Outcome, Publication, RoomPolicy, Routed, Snapshot, Unavailable, Wait,
};
use crate::address::{Generation, Group, Peer};
use crate::catalog::SharedCatalog;
use crate::db::Database;
use crate::lifecycle::Tasks;
use crate::metrics::METRICS;
use crate::protocol::pairing::PairingCode;
use crate::protocol::parcel::Parcel;
use crate::protocol::rooms::MemberCard;
use crate::protocol::{ClientId, DeviceId};
use keys::Keys;

/// How a node reaches Redis (`--redis-url`, `--redis-prefix`, `--heartbeat-interval`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    pub url: String,
    /// Put in front of every key and channel, so that clusters (or tests) can share a Redis.
    pub prefix: String,
    /// How often the node says it is alive; it counts as dead after three missed beats.
    pub heartbeat: Duration,
}

/// The backplane of one node of a cluster. Cheap to clone.
#[derive(Clone)]
pub struct RedisBackplane(Arc<Shared>);

struct Shared {
    node: String,
    keys: Keys,
    redis: ConnectionManager,
    /// The heartbeat's own connection: a burst of commands (thousands of clients leaving
    /// at once) must not delay it until the node is taken for dead.
    beats: ConnectionManager,
    client: redis::Client,
    settings: RedisSettings,
    /// This node's hub, which takes what arrives for its connections.
    inbound: OnceLock<Weak<dyn Inbound>>,
    /// The server's background tasks, once started.
    tasks: OnceLock<Tasks>,
    /// The subscriptions' sink while subscribed; group channels with members here.
    subscriptions: tokio::sync::Mutex<Subscriptions>,
    /// Set while the subscription connection is up and the last heartbeat got through.
    ready: AtomicBool,
    subscribed: AtomicBool,
    /// Presence is to be checked again at the next reconciliation (Redis was away).
    presence_owed: AtomicBool,
    /// Told when the subscription connection is first up.
    first_subscription: Notify,
    /// Requests to other nodes waiting for their outcome.
    pending: Mutex<routing::Pending>,
    next_request: AtomicU64,
    /// The node last found holding each address this node delivered to elsewhere.
    holders: holders::Holders,
    /// Who publishes on each other node's channel, in batches.
    couriers: courier::Couriers,
    /// How long a message may wait for a full queue (`--slow-consumer-timeout`).
    patience: Duration,
    /// How long a socket write may take (`--write-timeout`): with `patience`, the longest
    /// a remote delivery can take.
    write_timeout: Duration,
    rooms: RoomPolicy,
    /// Pairing-code lookups each address may miss (`--code-guesses`).
    guesses: GuessLimit,
    catalog: SharedCatalog,
    db: Database,
    /// The last catalogue version this node's catalogue includes.
    catalog_version: AtomicU64,
    /// A newer version seen at the last check, not yet reached: reload if still so.
    catalog_behind: AtomicU64,
}

#[derive(Default)]
struct Subscriptions {
    sink: Option<PubSubSink>,
    /// Group channels and how many members here need each.
    groups: HashMap<String, usize>,
}

/// Redis calls answer within this, or the operation fails as unavailable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// Every this many heartbeats, a node compares what Redis says it holds with what it
/// holds, and repairs the difference.
const RECONCILE_EVERY: u64 = 5;

impl RedisBackplane {
    /// Connects and registers the node; [`Backplane::start`] then starts its
    /// subscription, heartbeat and janitor.
    pub async fn connect(
        settings: RedisSettings,
        patience: Duration,
        write_timeout: Duration,
        rooms: RoomPolicy,
        guesses: GuessLimit,
        catalog: SharedCatalog,
        db: Database,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())
            .with_context(|| format!("{} is not a Redis URL", redacted(&settings.url)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connect = || async {
            tokio::time::timeout(
                REDIS_TIMEOUT * 2,
                client.get_connection_manager_with_config(config.clone()),
            )
            .await
            .map_err(|_| anyhow::anyhow!("no answer"))
            .and_then(|connected| connected.map_err(Into::into))
            .with_context(|| format!("cannot connect to Redis at {}", redacted(&settings.url)))
        };
        let redis = connect().await?;
        let beats = connect().await?;
        let node = uuid::Uuid::new_v4().simple().to_string();
        let backplane = Self(Arc::new(Shared {
            keys: Keys::new(&settings.prefix),
            node,
            redis,
            beats,
            client,
            inbound: OnceLock::new(),
            tasks: OnceLock::new(),
            subscriptions: tokio::sync::Mutex::default(),
            ready: AtomicBool::new(false),
            subscribed: AtomicBool::new(false),
            presence_owed: AtomicBool::new(false),
            first_subscription: Notify::new(),
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
            holders: holders::Holders::default(),
            couriers: courier::Couriers::default(),
            patience,
            write_timeout,
            rooms,
            guesses,
            catalog,
            db,
            catalog_version: AtomicU64::new(0),
            catalog_behind: AtomicU64::new(0),
            settings,
        }));
        backplane
            .heartbeat()
            .await
            .context("cannot register this node in Redis")?;
        // Changes announced before this node started are in the catalogue it loaded.
        let version: Option<u64> = redis::cmd("GET")
            .arg(backplane.0.keys.catalog_version())
            .query_async(&mut backplane.redis())
            .await
            .unwrap_or_default();
        backplane
            .0
            .catalog_version
            .store(version.unwrap_or(0), Ordering::Relaxed);
        tracing::info!(node = %backplane.0.node, "joined the cluster through Redis");
        Ok(backplane)
    }

    /// Waits (at most a few seconds) until the subscription is up, so that the node
    /// takes group members from its first request on.
    pub async fn subscribed(&self) {
        let notified = self.0.first_subscription.notified();
        if !self.0.subscribed.load(Ordering::Relaxed) {
            let _ = tokio::time::timeout(REDIS_TIMEOUT * 2, notified).await;
        }
    }

    /// Runs `task` in the background until it ends or the server stops.
    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        match self.0.tasks.get() {
            Some(tasks) => tasks.spawn(task),
            None => drop(tokio::spawn(task)),
        }
    }

    /// The hub, while the server runs.
    fn inbound(&self) -> Option<Arc<dyn Inbound>> {
        self.0.inbound.get().and_then(Weak::upgrade)
    }

    /// A connection for one command; cheap (the manager multiplexes).
    fn redis(&self) -> ConnectionManager {
        self.0.redis.clone()
    }

    /// Marks the node ready or not, saying so once when it changes.
    fn set_ready(&self, ready: bool) {
        let was = self.0.ready.swap(ready, Ordering::Relaxed);
        if was != ready {
            if ready {
                tracing::info!("Redis is reachable: ready");
            } else {
                tracing::warn!("Redis is unreachable: not ready; cross-node operations fail until it is back");
            }
        }
    }

    /// Refreshes this node's alive key and its place in the registry of nodes. Returns
    /// whether the node had to be added to the registry again: then the others took it
    /// for dead (or Redis lost everything) and removed what it had registered.
    async fn heartbeat(&self) -> redis::RedisResult<bool> {
        let ttl = self.0.settings.heartbeat * 3;
        let mut redis = self.0.beats.clone();
        METRICS.redis_round_trips.inc();
        let (added,): (i64,) = redis::pipe()
            .cmd("SET")
            .arg(self.0.keys.alive(&self.0.node))
            .arg("1")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .ignore()
            .sadd(self.0.keys.nodes(), &self.0.node)
            .query_async(&mut redis)
            .await?;
        Ok(added == 1)
    }

    async fn beat_forever(self) {
        let mut ticker = tokio::time::interval(self.0.settings.heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let beat = tokio::time::timeout(REDIS_TIMEOUT, self.heartbeat()).await;
            let ok = matches!(beat, Ok(Ok(_)));
            if matches!(beat, Ok(Ok(true))) {
                // Taken for dead and cleaned up while alive (a stalled Redis, a long pause):
                // the groups were told its members left, so they must rejoin.
                tracing::warn!("this node was taken for dead by the others; registering again");
                if let Some(inbound) = self.inbound() {
                    inbound.members_missed();
                }
                if let Err(err) = self.reregister().await {
                    tracing::warn!(%err, "could not register this node's connections again");
                }
                self.recheck_presence().await;
            }
            self.set_ready(ok && self.0.subscribed.load(Ordering::Relaxed));
        }
    }

    /// Presence notices were lost while Redis was away: the hub checks its connections'
    /// counterparts now, and once more at the next reconciliation, by when the other
    /// nodes have registered again too.
    async fn recheck_presence(&self) {
        self.0.presence_owed.store(true, Ordering::Relaxed);
        if let Some(inbound) = self.inbound() {
            inbound.presence_doubtful().await;
        }
    }

    /// Cleans up after dead nodes and repairs this node's own registrations (a release
    /// that failed while Redis was slow), apart from the heartbeat so that a long
    /// clean-up never delays it.
    async fn maintain_forever(self) {
        let mut ticker = tokio::time::interval(self.0.settings.heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for round in 0u64.. {
            ticker.tick().await;
            if !self.0.ready.load(Ordering::Relaxed) {
                continue;
            }
            if let Err(err) = janitor::sweep(&self).await {
                tracing::debug!(%err, "janitor sweep failed");
            }
            if round % RECONCILE_EVERY == RECONCILE_EVERY - 1 {
                if let Err(err) = self.reregister().await {
                    tracing::debug!(%err, "could not reconcile this node's registrations");
                }
                if let Err(err) = self.check_catalog_version().await {
                    tracing::debug!(%err, "could not check the catalogue version");
                }
                if self.0.presence_owed.swap(false, Ordering::Relaxed) {
                    if let Some(inbound) = self.inbound() {
                        inbound.presence_doubtful().await;
                    }
                }
            }
        }
    }

    async fn publish_raw(&self, channel: &str, payload: &[u8]) -> Result<i64, Unavailable> {
        let mut redis = self.redis();
        METRICS.redis_round_trips.inc();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut redis)
            .await
            .map_err(unavailable)
    }
}

/// A Redis failure, as the backplane reports it.
fn unavailable(err: redis::RedisError) -> Unavailable {
    Unavailable(err.to_string())
}

/// The URL without a password, for messages.
fn redacted(url: &str) -> String {
    match url.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let scheme = credentials.split("://").next().unwrap_or("redis");
            format!("{scheme}://***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[async_trait]
impl Backplane for RedisBackplane {
    fn start(&self, inbound: Weak<dyn Inbound>, tasks: &Tasks) {
        let _ = self.0.inbound.set(inbound);
        let _ = self.0.tasks.set(tasks.clone());
        tasks.spawn(self.clone().subscribe_forever());
        tasks.spawn(self.clone().beat_forever());
        tasks.spawn(self.clone().maintain_forever());
    }

    async fn claim(&self, peer: Peer, generation: Generation) -> Result<(), Unavailable> {
        pairs::claim(self, peer, generation).await
    }

    async fn release(&self, peer: Peer, generation: Generation) -> Result<bool, Unavailable> {
        pairs::release(self, &self.0.node, peer, generation.0 + 1)
            .await
            .map_err(unavailable)
    }

    async fn announce_display(&self, device: DeviceId) {
        let channel = self.0.keys.attached_channel();
        let _ = self.publish_raw(&channel, device.to_string().as_bytes()).await;
    }

    async fn locate(&self, peer: Peer) -> Result<Option<NodeId>, Unavailable> {
        pairs::locate(self, peer).await
    }

    async fn locate_member(&self, group: &Group, id: ClientId) -> Result<Option<NodeId>, Unavailable> {
        groups::locate_member(self, group, id).await
    }

    async fn route(&self, node: &NodeId, routed: Routed) -> Result<Outcome, Unavailable> {
        self.request(&node.0, &routed).await
    }

    async fn route_to_peer(&self, peer: Peer, parcel: Parcel, wait: Wait) -> Result<Outcome, Unavailable> {
        routing::route_to_peer(self, peer, parcel, wait).await
    }

    async fn join(
        &self,
        group: &Group,
        card: &MemberCard,
        notice: Option<&Message>,
        farewell: Option<&Message>,
    ) -> Result<Snapshot, Unavailable> {
        groups::join(self, group, card, notice, farewell).await
    }

    async fn roster(&self, group: &Group) -> Result<Vec<MemberCard>, Unavailable> {
        groups::roster(self, group).await
    }

    /// The farewell was stored with the member's card when it joined.
    async fn leave(&self, group: &Group, id: ClientId, _farewell: Option<&Message>) {
        groups::leave(self, group, id).await;
    }

    async fn publish(&self, group: &Group, publication: Publication) -> Result<Option<u64>, Unavailable> {
        groups::publish(self, group, publication).await
    }

    async fn issue_code(&self, device: DeviceId, ttl: Duration) -> Result<IssuedCode, Unavailable> {
        pairs::issue_code(self, device, ttl).await
    }

    async fn resolve_code(&self, code: PairingCode) -> Result<Option<DeviceId>, Unavailable> {
        pairs::resolve_code(self, code).await
    }

    async fn attempt_guess(&self, client: IpAddr) -> Result<Result<Attempt, Duration>, Unavailable> {
        pairs::attempt_guess(self, client).await
    }

    async fn give_back_guess(&self, attempt: Attempt) {
        pairs::give_back_guess(self, attempt).await;
    }

    async fn readiness(&self) -> Result<(), Unavailable> {
        if self.0.ready.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(Unavailable("Redis is not reachable".to_owned()))
        }
    }

    async fn catalog_changed(&self, change: CatalogChange) {
        let payload = serde_json::json!({ "node": self.0.node, "change": change }).to_string();
        if let Err(err) = self.announce(&payload).await {
            // The change is in the database; the others must hear of it. Retried in the
            // background until Redis takes it (or a minute has passed).
            tracing::warn!(%err, "could not announce a catalogue change yet; retrying");
            let backplane = self.clone();
            self.spawn(async move {
                for _ in 0..60 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if backplane.announce(&payload).await.is_ok() {
                        return;
                    }
                }
                tracing::error!("gave up announcing a catalogue change; other nodes draw without it until restarted");
            });
        }
    }
}
