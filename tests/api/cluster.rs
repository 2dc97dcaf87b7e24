//! Scale-out: several `pairlink serve --redis-url` processes on one Redis and one
//! PostgreSQL database behave as one server. Each test has its own key prefix (and
//! database); the Redis restart test runs its own Redis.

use std::process::Stdio;
use std::time::Duration;

use futures_util::SinkExt;
use pairlink::db::Backend;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;
use crate::process::ServerProcess;

const UUID: &str = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";

/// Nodes of one cluster; its Redis keys go with it.
pub(crate) struct Cluster {
    nodes: Vec<Option<ServerProcess>>,
    prefix: String,
    redis_url: String,
    database: TestDatabase,
}

impl Cluster {
    pub(crate) async fn start(nodes: usize, args: &[&str]) -> Self {
        Self::start_on("redis://127.0.0.1:6379", nodes, args).await
    }

    /// Starts `nodes` nodes one after the other (the first one migrates and loads the demo).
    pub(crate) async fn start_on(redis_url: &str, nodes: usize, args: &[&str]) -> Self {
        Self::start_with(redis_url, None, nodes, args).await
    }

    /// Like [`Cluster::start`], on a database holding `catalog` instead of the demo.
    pub(crate) async fn start_with(redis_url: &str, catalog: Option<String>, nodes: usize, args: &[&str]) -> Self {
        let database = TestDatabase::create(Backend::Postgres).await;
        if let Some(catalog) = catalog {
            let db = database.connect().await;
            pairlink::catalog::import::CatalogFile::parse_json(catalog.as_bytes())
                .unwrap()
                .write(&db)
                .await
                .unwrap();
            db.pool().close().await;
        }
        let prefix = format!("pairlink-test-{}:", uuid::Uuid::new_v4().simple());
        let mut all = Vec::new();
        for _ in 0..nodes {
            let mut node_args = vec!["--redis-url", redis_url, "--redis-prefix", &prefix];
            node_args.extend_from_slice(args);
            all.push(Some(
                ServerProcess::start_on(&database.url.to_string(), &node_args, &[]).await,
            ));
        }
        Self {
            nodes: all,
            prefix,
            redis_url: redis_url.to_owned(),
            database,
        }
    }

    pub(crate) fn node(&self, i: usize) -> &ServerProcess {
        self.nodes[i].as_ref().expect("node running")
    }

    pub(crate) fn url(&self, i: usize, path: &str) -> String {
        format!("ws://{}{path}", self.node(i).addr)
    }

    pub(crate) async fn display(&self, i: usize, uuid: &str) -> Ws {
        connect(&self.url(i, &format!("/ws/difficulty/unity/{uuid}")))
            .await
            .expect("display connects")
    }

    pub(crate) async fn controller(&self, i: usize, uuid: &str) -> Ws {
        connect(&self.url(i, &format!("/ws/difficulty/android/{uuid}")))
            .await
            .expect("controller connects")
    }

    pub(crate) fn take(&mut self, i: usize) -> ServerProcess {
        self.nodes[i].take().expect("node running")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The nodes go first (killed as they are dropped), so that none writes a key
        // again after the clean-up below.
        self.nodes.clear();
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(client) = redis::Client::open(self.redis_url.as_str()) {
            if let Ok(mut redis) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}*", self.prefix))
                    .query(&mut redis)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut redis);
                }
            }
        }
    }
}

/// Retries `check` until it holds or `within` passes.
pub(crate) async fn eventually<F: std::future::Future<Output = bool>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pair_split_over_two_nodes_works_as_on_one() {
    let cluster = Cluster::start(3, &[]).await;
    let (status, body) = refusal(&cluster.url(2, &format!("/ws/difficulty/android/{UUID}"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("display_offline")),
        "display-first, cluster-wide"
    );

    let mut display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    for _ in 0..20 {
        send_text(&mut controller, r#"{"difficulty":1}"#).await;
        let draw = next_json(&mut display).await;
        assert_eq!(draw["quiz_id"].as_array().map(Vec::len), Some(3), "{draw}");
        assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    }
    send_text(&mut controller, r#"{"difficulty":99}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "no_content");
    // The display's messages cross back to the controller.
    send_text(&mut display, r#"{"score":3}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"score":3}"#);

    // The display leaves: its controller on the other node learns it at once.
    display.close(None).await.unwrap();
    let _ = next(&mut display).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "display_offline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_newer_connection_on_another_node_replaces_the_older_with_4001() {
    let cluster = Cluster::start(3, &[]).await;
    let mut old = cluster.display(0, UUID).await;
    let mut new = cluster.display(1, UUID).await;
    assert_eq!(u16::from(next_close(&mut old).await.code), 4001);
    // Wait for the older connection to finish (its clean-up has run) ...
    let _ = tokio::time::timeout(PATIENCE, futures_util::StreamExt::next(&mut old)).await;
    // ... then a controller on a third node, which must find the newer display in Redis.
    let mut controller = cluster.controller(2, UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert!(
        next_json(&mut new).await["quiz_id"].is_array(),
        "draws go to the newer display"
    );
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
}

/// Joins a room; returns the socket and its welcome.
async fn join(cluster: &Cluster, node: usize, room: &str, query: &str) -> (Ws, Value) {
    let mut ws = connect(&cluster.url(node, &format!("/ws/rooms/{room}{query}")))
        .await
        .unwrap();
    let welcome = next_of_type(&mut ws, "welcome").await;
    (ws, welcome)
}

async fn room_messages(ws: &mut Ws, count: usize) -> Vec<Value> {
    let mut messages = Vec::new();
    while messages.len() < count {
        let event = next_json(ws).await;
        if event["type"] == "message" {
            messages.push(event);
        }
    }
    messages
}

fn seqs(messages: &[Value]) -> Vec<u64> {
    messages.iter().map(|m| m["seq"].as_u64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_room_over_three_nodes_has_one_gapless_order_members_and_recovery() {
    let cluster = Cluster::start(3, &[]).await;
    let (mut a, welcome_a) = join(&cluster, 0, "lobby", "?name=A").await;
    let (b, welcome_b) = join(&cluster, 1, "lobby", "?name=B").await;
    let (c, welcome_c) = join(&cluster, 2, "lobby", "?name=C").await;
    let names = |welcome: &Value| -> Vec<String> {
        welcome["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&welcome_a), ["A"]);
    assert_eq!(names(&welcome_b), ["A", "B"]);
    assert_eq!(
        names(&welcome_c),
        ["A", "B", "C"],
        "every member, in join order, across nodes"
    );
    assert_eq!(
        next_json(&mut a).await,
        json!({"type":"join","id":welcome_b["id"],"name":"B"})
    );

    const EACH: usize = 15;
    let tasks = [a, b, c].into_iter().enumerate().map(|(m, mut ws)| {
        tokio::spawn(async move {
            for i in 0..EACH {
                ws.send(Message::text(json!({"m": m, "i": i}).to_string()))
                    .await
                    .unwrap();
            }
            let seen = room_messages(&mut ws, 3 * EACH).await;
            (ws, seen)
        })
    });
    let results = futures_util::future::try_join_all(tasks).await.unwrap();
    for (_, seen) in &results {
        assert_eq!(seqs(seen), (1..=(3 * EACH) as u64).collect::<Vec<_>>());
        assert_eq!(seen, &results[0].1, "one order on every node");
    }

    // Members on nodes 0 and 1 drop after seq 45; two more messages; one rejoins on node 2.
    let mut sockets: Vec<Ws> = results.into_iter().map(|(ws, _)| ws).collect();
    let talker = sockets.pop().unwrap();
    drop(sockets);
    let mut talker = talker;
    for text in ["\"x\"", "\"y\""] {
        send_text(&mut talker, text).await;
    }
    room_messages(&mut talker, 2).await;
    let (mut back, welcome) = join(&cluster, 2, "lobby", &format!("?since={}", 3 * EACH)).await;
    assert_eq!(
        (welcome["seq"].as_u64(), welcome["recovered"].as_bool()),
        (Some(47), Some(true))
    );
    assert_eq!(seqs(&room_messages(&mut back, 2).await), [46, 47]);
    // Nothing repeated after the replay: the next message is 48.
    send_text(&mut talker, "\"z\"").await;
    assert_eq!(seqs(&room_messages(&mut back, 1).await), [48]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_and_signaling_span_nodes() {
    let cluster = Cluster::start(2, &[]).await;
    let mut one = connect(&cluster.url(0, "/ws")).await.unwrap();
    let mut two = connect(&cluster.url(1, "/ws")).await.unwrap();
    for i in 0..10 {
        one.send(Message::text(format!("one {i}"))).await.unwrap();
        two.send(Message::text(format!("two {i}"))).await.unwrap();
    }
    let mut orders = Vec::new();
    for ws in [&mut one, &mut two] {
        let mut order = Vec::new();
        for _ in 0..20 {
            order.push(next_text(ws).await);
        }
        orders.push(order);
    }
    assert_eq!(orders[0], orders[1], "one order for the hub across nodes");

    let mut alice = connect(&cluster.url(0, "/ws/signal/call")).await.unwrap();
    let alice_id = next_of_type(&mut alice, "welcome").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bob = connect(&cluster.url(1, "/ws/signal/call")).await.unwrap();
    let welcome = next_of_type(&mut bob, "welcome").await;
    assert_eq!(welcome["peers"], json!([alice_id]));
    let bob_id = welcome["id"].as_str().unwrap().to_owned();
    assert_eq!(next_json(&mut alice).await, json!({"type":"peer_joined","id":bob_id}));
    send_text(
        &mut bob,
        &json!({"type":"offer","target_id":alice_id,"sdp":"v=0","id":"forged"}).to_string(),
    )
    .await;
    let offer = next_json(&mut alice).await;
    assert_eq!(
        (offer["sdp"].as_str(), offer["id"].as_str()),
        (Some("v=0"), Some(bob_id.as_str()))
    );
    bob.close(None).await.unwrap();
    assert_eq!(next_json(&mut alice).await, json!({"type":"peer_left","id":bob_id}));
    send_text(
        &mut alice,
        &json!({"type":"answer","target_id":bob_id,"sdp":"x"}).to_string(),
    )
    .await;
    assert_eq!(next_json(&mut alice).await["code"], "unknown_peer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pairing_codes_work_on_any_node() {
    let cluster = Cluster::start(3, &[]).await;
    let mut display = cluster.display(0, UUID).await;
    let issued = http_to(cluster.node(1).addr, "POST", &format!("/api/pairings/{UUID}/code")).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let code = issued.json()["code"].as_str().unwrap().to_owned();
    let again = http_to(cluster.node(0).addr, "POST", &format!("/api/pairings/{UUID}/code")).await;
    assert_eq!(
        again.json()["code"],
        code.as_str(),
        "one live code, whichever node is asked"
    );
    let looked_up = http_to(cluster.node(2).addr, "GET", &format!("/api/pairings/code/{code}")).await;
    assert_eq!(looked_up.json()["uuid"], UUID);
    let mut controller = connect(&cluster.url(2, &format!("/ws/join/{code}"))).await.unwrap();
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    // The code ends with its display, on every node.
    display.close(None).await.unwrap();
    let _ = next(&mut display).await;
    let gone = http_to(cluster.node(1).addr, "GET", &format!("/api/pairings/code/{code}")).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn held_draws_follow_the_display_to_another_node() {
    let catalog = Some(tagged_catalog([1, 2, 3], 3));
    let cluster = Cluster::start_with("redis://127.0.0.1:6379", catalog, 3, &["--hold-for", "20s"]).await;
    let mut display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    display.close(None).await.unwrap();
    let _ = next(&mut display).await;
    for difficulty in [1, 2] {
        send_text(&mut controller, &format!(r#"{{"difficulty":{difficulty}}}"#)).await;
        assert_eq!(next_text(&mut controller).await, r#"{"status":"queued"}"#);
    }
    // A newer draw sent while the display comes back still arrives after the held ones.
    let (back, ()) = tokio::join!(cluster.display(2, UUID), async {
        send_text(&mut controller, r#"{"difficulty":3}"#).await;
    });
    let mut back = back;
    let actions: Vec<u64> = [
        next_json(&mut back).await,
        next_json(&mut back).await,
        next_json(&mut back).await,
    ]
    .iter()
    .map(|draw| draw["action_id"].as_u64().unwrap())
    .collect();
    assert_eq!(actions, [1, 2, 3], "held draws first, in order, then the newer one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_content_write_on_one_node_is_drawn_on_the_others() {
    let cluster = Cluster::start(2, &["--admin-token", "secret-admin"]).await;
    let mut display = cluster.display(1, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    send_text(&mut controller, r#"{"difficulty":42}"#).await;
    assert_eq!(next_json(&mut controller).await["code"], "no_content");

    for (path, body) in [
        (
            "/api/quizzes",
            json!({"name":"new","difficulty":42,"lef_sel":"a","rig_sel":"b"}),
        ),
        ("/api/actions", json!({"difficulty":42,"lef_sel":"a","rig_sel":"b"})),
    ] {
        let created = reqwest::Client::new()
            .post(format!("http://{}{path}", cluster.node(0).addr))
            .bearer_auth("secret-admin")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    let drawn = loop {
        send_text(&mut controller, r#"{"difficulty":42}"#).await;
        if next_text(&mut controller).await == r#"{"status":"received"}"# {
            next_json(&mut display).await;
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(drawn, "the other node did not draw the new quiz within a second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_missed_a_catalogue_change_reads_the_catalogue_again() {
    let cluster = Cluster::start(1, &[]).await;
    let mut display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(0, UUID).await;
    // A write whose announcement was lost: in the database, and the version moved on.
    let db = cluster.database.connect().await;
    sqlx::query(
        "INSERT INTO quizzes (id, name, difficulty, lef_sel, rig_sel, detail) VALUES (900, 'q', 42, 'a', 'b', '')",
    )
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO actions (id, difficulty, lef_sel, rig_sel, detail) VALUES (900, 42, 'a', 'b', '')")
        .execute(db.pool())
        .await
        .unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut redis = client.get_connection().unwrap();
    let version_key = format!("{}catalog:version", cluster.prefix);
    let version: u64 = redis::cmd("INCRBY").arg(&version_key).arg(2).query(&mut redis).unwrap();
    let change = json!({"node": "elsewhere", "change": {"table": "quizzes", "id": 1, "from": 1, "to": 1}});
    let _: i64 = redis::cmd("PUBLISH")
        .arg(format!("{}catalog", cluster.prefix))
        .arg(format!("{version}\n{change}"))
        .query(&mut redis)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        send_text(&mut controller, r#"{"difficulty":42}"#).await;
        if next_text(&mut controller).await == r#"{"status":"received"}"# {
            assert_eq!(next_json(&mut display).await, json!({"quiz_id":[900],"action_id":900}));
            break;
        }
        assert!(Instant::now() < deadline, "the node did not read the catalogue again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_node_is_forgotten_within_three_heartbeats() {
    let mut cluster = Cluster::start(2, &["--heartbeat-interval", "300ms"]).await;
    let _display = cluster.display(0, UUID).await;
    let mut controller = cluster.controller(1, UUID).await;
    let (_doomed, _) = join(&cluster, 0, "wake", "").await;
    let (mut survivor, welcome) = join(&cluster, 1, "wake", "").await;
    assert_eq!(welcome["members"].as_array().map(Vec::len), Some(2));

    cluster.take(0).kill().await;
    let killed = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(3);
    let forgotten = loop {
        send_text(&mut controller, r#"{"difficulty":1}"#).await;
        if next_json(&mut controller).await["code"] == "display_offline" {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(forgotten, "draws still went to the dead node's display after 3 s");
    // A new controller is refused once the node's presence has expired.
    let refused = eventually(Duration::from_secs(3), || async {
        let url = cluster.url(1, &format!("/ws/difficulty/android/{UUID}"));
        matches!(connect(&url).await, Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status() == 400)
    })
    .await;
    assert!(refused, "the dead node's display still counted after 3 s");
    let elapsed = killed.elapsed();
    assert!(
        elapsed < Duration::from_millis(3 * 300 + 1500),
        "within 3 heartbeats (+ margin): {elapsed:?}"
    );
    // The janitor tells the room the dead node's member left.
    assert_eq!(next_of_type(&mut survivor, "leave").await["type"], "leave");
}

/// A v2 display on node 0 and its v2 controller on node 1, each past its welcome and the
/// display told that the controller came.
async fn v2_pair_over_two_nodes(cluster: &Cluster) -> (Ws, Ws) {
    let display_url = cluster.url(0, &format!("/ws/difficulty/unity/{UUID}"));
    let mut display = crate::v2_client::connect_v2(&display_url).await;
    assert_eq!(next_json(&mut display).await["type"], "welcome");
    let controller_url = cluster.url(1, &format!("/ws/difficulty/android/{UUID}"));
    let mut controller = crate::v2_client::connect_v2(&controller_url).await;
    assert_eq!(next_json(&mut controller).await["peer"], true);
    assert_eq!(next_json(&mut display).await["connected"], true);
    (display, controller)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_v2_side_hears_that_its_counterpart_went_with_a_killed_node() {
    let mut cluster = Cluster::start(2, &["--heartbeat-interval", "300ms"]).await;
    let (_display, mut controller) = v2_pair_over_two_nodes(&cluster).await;

    cluster.take(0).kill().await;
    let gone = next_json(&mut controller).await;
    assert_eq!(
        gone,
        serde_json::json!({"type":"peer","role":"display","connected":false}),
        "told once the janitor found the node dead"
    );
}

/// Whether a controller on `node` is let in for `UUID` (its display counts as connected).
async fn display_counts(cluster: &Cluster, node: usize) -> bool {
    connect(&cluster.url(node, &format!("/ws/difficulty/android/{UUID}")))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_node_counts_as_gone_and_comes_back_without_losing_room_messages() {
    let cluster = Cluster::start(2, &["--heartbeat-interval", "200ms"]).await;
    let mut display = cluster.display(0, UUID).await;
    let (mut sleeper, _) = join(&cluster, 0, "nap", "").await;
    let (mut awake, _) = join(&cluster, 1, "nap", "").await;
    let _ = next_of_type(&mut sleeper, "join").await;

    cluster.node(0).freeze(true);
    let gone = eventually(Duration::from_secs(3), || async { !display_counts(&cluster, 1).await }).await;
    assert!(gone, "a paused node's display still counted after 3 s");
    send_text(&mut awake, "\"while you slept\"").await;
    assert_eq!(next_of_type(&mut awake, "message").await["seq"], 1);

    cluster.node(0).freeze(false);
    // Its subscription stayed open: nothing was cleaned up and nothing is lost.
    let message = next_of_type(&mut sleeper, "message").await;
    assert_eq!(
        (message["seq"].as_u64(), message["data"].as_str()),
        (Some(1), Some("while you slept"))
    );
    assert!(eventually(Duration::from_secs(3), || display_counts(&cluster, 1)).await);
    let mut controller = cluster.controller(1, UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert!(next_json(&mut display).await["quiz_id"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cleaned_up_while_alive_registers_again() {
    let cluster = Cluster::start(2, &["--heartbeat-interval", "200ms"]).await;
    let mut display = cluster.display(0, UUID).await;
    let (mut member, _) = join(&cluster, 0, "nap", "").await;
    // What another node's janitor does to a node it takes for dead.
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut redis = client.get_connection().unwrap();
    let peer_key = format!("{}peer:display:{UUID}", cluster.prefix);
    let holder: String = redis::cmd("GET").arg(&peer_key).query(&mut redis).unwrap();
    let node = holder.split('/').next().unwrap().to_owned();
    let _: () = redis::cmd("SREM")
        .arg(format!("{}nodes", cluster.prefix))
        .arg(&node)
        .query(&mut redis)
        .unwrap();
    let _: () = redis::cmd("DEL").arg(&peer_key).query(&mut redis).unwrap();
    assert!(!display_counts(&cluster, 1).await);

    // On its next heartbeat it notices: its members rejoin, its display is registered again.
    assert_eq!(u16::from(next_close(&mut member).await.code), 1012);
    assert!(eventually(Duration::from_secs(3), || display_counts(&cluster, 1)).await);
    let mut controller = cluster.controller(1, UUID).await;
    send_text(&mut controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut controller).await, r#"{"status":"received"}"#);
    assert!(next_json(&mut display).await["quiz_id"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_fail_clearly_without_redis_and_recover_when_it_returns() {
    let redis = OwnRedis::start().await;
    let cluster = Cluster::start_on(&redis.url(), 2, &["--heartbeat-interval", "300ms"]).await;
    let mut display = cluster.display(0, UUID).await;
    let mut paired = cluster.controller(1, UUID).await;
    let (mut member, _) = join(&cluster, 1, "lobby", "").await;
    let local_uuid = "0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d";
    let mut local_display = cluster.display(1, local_uuid).await;
    let mut local_controller = cluster.controller(1, local_uuid).await;
    let ready = |i: usize| {
        let addr = cluster.node(i).addr;
        async move { http_to(addr, "GET", "/readyz").await.status == 200 }
    };
    assert!(ready(0).await && ready(1).await);

    let redis = redis.stop();
    assert!(
        eventually(Duration::from_secs(5), || async { !ready(1).await }).await,
        "still ready without Redis"
    );
    // Room messages may pass a member by while its node is cut off: it is told to reconnect.
    assert_eq!(u16::from(next_close(&mut member).await.code), 1012);
    let readiness = http_to(cluster.node(1).addr, "GET", "/readyz").await.json();
    assert!(
        readiness["checks"]["broker"].as_str().unwrap().starts_with("error"),
        "{readiness}"
    );
    let (status, body) = refusal(&cluster.url(1, &format!("/ws/difficulty/android/{UUID}"))).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("broker_unavailable")));
    // A v2 client learns it in-band: close 4503.
    let mut v2 = crate::v2_client::connect_v2(&cluster.url(1, &format!("/ws/difficulty/android/{UUID}"))).await;
    assert_eq!(next_json(&mut v2).await["code"], "broker_unavailable");
    assert_eq!(u16::from(next_close(&mut v2).await.code), 4503);
    // A connected display's code cannot be issued either: unavailable, not offline.
    let reply = http_to(cluster.node(0).addr, "POST", &format!("/api/pairings/{UUID}/code")).await;
    assert_eq!(
        (reply.status, reply.json()["code"].as_str()),
        (503, Some("broker_unavailable"))
    );
    // A pair on one node does not need Redis.
    send_text(&mut local_controller, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut local_controller).await, r#"{"status":"received"}"#);
    assert!(next_json(&mut local_display).await["quiz_id"].is_array());
    // A draw for the display on the other node cannot cross: said so, nothing lost silently.
    send_text(&mut paired, r#"{"difficulty":1}"#).await;
    assert_eq!(next_json(&mut paired).await["code"], "broker_unavailable");

    let _redis = redis.restart().await;
    let back = eventually(Duration::from_secs(10), || async { ready(0).await && ready(1).await }).await;
    assert!(back, "not ready again:\n{}", cluster.node(1).log());
    // Redis came back empty; node 0 registered its display again, and the controller that
    // stayed connected works again.
    send_text(&mut paired, r#"{"difficulty":1}"#).await;
    assert_eq!(next_text(&mut paired).await, r#"{"status":"received"}"#);
    assert!(next_json(&mut display).await["quiz_id"].is_array());
    let (_member, welcome) = join(&cluster, 1, "lobby", "?since=0").await;
    assert_eq!(
        welcome["members"].as_array().map(Vec::len),
        Some(1),
        "the closed member left: {welcome}"
    );
}

/// A Redis server of the test's own, which it can stop and start again.
struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self { port, child: None };
        redis.spawn().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/services.sh installs it)");
        self.child = Some(child);
        let port = self.port;
        let up = eventually(Duration::from_secs(5), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
        assert!(up, "redis-server did not start");
    }

    fn stop(mut self) -> Self {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self
    }

    async fn restart(mut self) -> Self {
        self.spawn().await;
        self
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A display that leaves while Redis is away cannot be announced then; its controller on
/// the other node is told once Redis is back, and again when the display returns.
#[tokio::test]
async fn presence_across_nodes_is_put_right_after_redis_was_away() {
    let redis = OwnRedis::start().await;
    let cluster = Cluster::start_on(&redis.url(), 2, &["--heartbeat-interval", "300ms"]).await;
    let (display, mut controller) = v2_pair_over_two_nodes(&cluster).await;

    let redis = redis.stop();
    close_and_wait(display).await;
    let _redis = redis.restart().await;
    let gone = next_json(&mut controller).await;
    assert_eq!(
        gone,
        serde_json::json!({"type":"peer","role":"display","connected":false}),
        "the controller is told its display left while Redis was away"
    );
    let display_url = cluster.url(0, &format!("/ws/difficulty/unity/{UUID}"));
    let mut display = crate::v2_client::connect_v2(&display_url).await;
    assert_eq!(next_json(&mut display).await["peer"], true);
    assert_eq!(
        next_json(&mut controller).await,
        serde_json::json!({"type":"peer","role":"display","connected":true})
    );
}
