//! A test deployment on either broker, so that one scenario runs on both: one node with
//! the in-process broker (SQLite), or a cluster of two nodes sharing one Redis and one
//! PostgreSQL catalogue, as a real scale-out deployment does.
//!
//! Every node is an [`Application`] on a runtime of its own. Stopping a node ends every
//! task it started, heartbeats included, as stopping a process would; only then are the
//! cluster's Redis keys removed, so that nothing a stopped node wrote stays behind.
//!
//! Parties go where a load balancer without sticky sessions could put them: the display
//! helper connects on node 0, the controller helper on the last node, and a test that
//! spreads members says "node i", counted round the nodes (`i % node_count()`), so the
//! same scenario runs unchanged on one node.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use pairlink::app::Application;
use pairlink::backplane::redis::RedisSettings;
use pairlink::config::ServeConfig;
use pairlink::db::Backend;
use pairlink::session::Limits;
use tokio::sync::oneshot;

use crate::helpers::{HttpReply, TestDatabase, Ws, connect, import_catalog, request};

/// Which broker a scenario runs on; see [`crate::on_both_brokers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// One node, everything in memory, on SQLite.
    InProcess,
    /// Two nodes on one Redis and one PostgreSQL database.
    Redis,
}

/// The Redis the cluster tests share; each deployment has a key prefix of its own in it.
fn redis_url() -> String {
    std::env::var("PAIRLINK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// How often a cluster node beats. The production default: none of the feature suites
/// waits on a node's death, and a longer beat keeps a loaded machine from taking a busy
/// node for dead.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// Adjusts a node's settings; applied to every node alike.
type Configure = Arc<dyn Fn(&mut ServeConfig) + Send + Sync>;

/// What every node of a deployment is started with.
#[derive(Clone, Default)]
pub struct Options {
    /// Imported before the first node starts (so the demo content is not loaded).
    catalog: Option<String>,
    limits: Limits,
    configure: Option<Configure>,
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn catalog(mut self, json: String) -> Self {
        self.catalog = Some(json);
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adjusts the rest of every node's settings (the broker's own are set after it).
    pub fn config(mut self, configure: impl Fn(&mut ServeConfig) + Send + Sync + 'static) -> Self {
        self.configure = Some(Arc::new(configure));
        self
    }
}

/// Running nodes and what they share; all stopped and removed when dropped.
pub struct Deployment {
    /// Dropped first: see [`Drop`] below.
    nodes: Vec<Node>,
    /// The cluster's key prefix in Redis, when on Redis.
    prefix: Option<String>,
    _database: TestDatabase,
}

impl Deployment {
    /// Starts a deployment with default settings.
    pub async fn start(broker: BrokerKind) -> Self {
        Self::with(broker, Options::new()).await
    }

    /// Starts the nodes one after the other: the first migrates the database.
    pub async fn with(broker: BrokerKind, options: Options) -> Self {
        let (backend, count) = match broker {
            BrokerKind::InProcess => (Backend::Sqlite, 1),
            BrokerKind::Redis => (Backend::Postgres, 2),
        };
        let database = TestDatabase::create(backend).await;
        if let Some(json) = &options.catalog {
            import_catalog(&database, json).await;
        }
        let prefix = (broker == BrokerKind::Redis).then(|| format!("pairlink-test:{}:", uuid::Uuid::new_v4().simple()));
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), database.url.clone());
            config.limits = options.limits;
            if let Some(configure) = &options.configure {
                configure(&mut config);
            }
            config.redis = prefix.as_ref().map(|prefix| RedisSettings {
                url: redis_url(),
                prefix: prefix.clone(),
                heartbeat: HEARTBEAT,
            });
            nodes.push(Node::start(config).await);
        }
        Self {
            nodes,
            prefix,
            _database: database,
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The address of node `i`, counted round the nodes.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.nodes[i % self.nodes.len()].addr
    }

    /// `ws://` URL of `path` on node `i`.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("ws://{}{path}", self.addr(i))
    }

    /// The display of `uuid`, on node 0.
    pub async fn display(&self, uuid: &str) -> Ws {
        self.display_on(0, uuid).await
    }

    /// The controller of `uuid`, on the last node: another node than the display's
    /// whenever there are two.
    pub async fn controller(&self, uuid: &str) -> Ws {
        self.controller_on(self.nodes.len() - 1, uuid).await
    }

    pub async fn display_on(&self, i: usize, uuid: &str) -> Ws {
        connect(&self.url(i, &format!("/ws/difficulty/unity/{uuid}")))
            .await
            .expect("display connects")
    }

    pub async fn controller_on(&self, i: usize, uuid: &str) -> Ws {
        connect(&self.url(i, &format!("/ws/difficulty/android/{uuid}")))
            .await
            .expect("controller connects")
    }

    /// The prefix of the cluster's keys in Redis; `None` in process.
    pub fn redis_prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// One HTTP request to node `i`, from 127.0.0.1.
    pub async fn http(&self, i: usize, method: &str, path: &str) -> HttpReply {
        self.http_from([127, 0, 0, 1].into(), i, method, path).await
    }

    /// One HTTP request to node `i` from `source` (any 127.x.y.z: another client address).
    pub async fn http_from(&self, source: IpAddr, i: usize, method: &str, path: &str) -> HttpReply {
        request(source, self.addr(i), method, path, &[]).await
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        // The nodes go first, so that none writes a key again after the clean-up below.
        self.nodes.clear();
        if let Some(prefix) = &self.prefix {
            if let Err(err) = remove_keys(prefix) {
                eprintln!("could not remove the Redis keys under {prefix}: {err}");
            }
        }
    }
}

/// Deletes every key under `prefix`.
fn remove_keys(prefix: &str) -> redis::RedisResult<()> {
    let mut redis = redis::Client::open(redis_url())?.get_connection()?;
    let keys = keys_under(&mut redis, prefix)?;
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).query::<()>(&mut redis)?;
    }
    Ok(())
}

/// How many keys the shared Redis holds under `prefix` (after a deployment: none).
pub fn count_keys(prefix: &str) -> usize {
    let mut redis = redis::Client::open(redis_url())
        .and_then(|client| client.get_connection())
        .expect("Redis must be running for the tests (see scripts/test.sh)");
    keys_under(&mut redis, prefix).expect("SCAN").len()
}

/// Every key under `prefix`, found with SCAN (KEYS would block a shared Redis).
fn keys_under(redis: &mut redis::Connection, prefix: &str) -> redis::RedisResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query(redis)?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// One [`Application`] serving on a thread and runtime of its own.
struct Node {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Node {
    async fn start(config: ServeConfig) -> Self {
        let (built, ready) = oneshot::channel::<anyhow::Result<SocketAddr>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("pairlink-node".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the node");
                runtime.block_on(async move {
                    let app = match Application::build(config).await {
                        Ok(app) => app,
                        Err(err) => {
                            let _ = built.send(Err(err));
                            return;
                        }
                    };
                    let _ = built.send(Ok(app.local_addr()));
                    app.run_until_stopped(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the node stops cleanly");
                });
                // Ends what is still running: heartbeats, subscriptions, connections.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("a thread for the node");
        let addr = ready.await.expect("the node thread reports").expect("the node builds");
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("a node's thread panicked");
            }
        }
    }
}

/// Runs each scenario as two tests: `in_process` (one node, SQLite) and `redis` (two
/// nodes on one Redis and one PostgreSQL database). Each scenario takes a [`BrokerKind`].
#[macro_export]
macro_rules! on_both_brokers {
    ($($scenario:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::deployment::BrokerKind::InProcess).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::deployment::BrokerKind::Redis).await;
                }
            )*
        }
    };
}
