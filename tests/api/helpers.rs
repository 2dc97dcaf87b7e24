//! Starting a server on a fresh database, and small WebSocket client helpers.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pairlink::app::Application;
use pairlink::catalog::import::CatalogFile;
use pairlink::config::ServeConfig;
use pairlink::db::{Backend, Database, DatabaseUrl};
use pairlink::session::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a message that should come.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The PostgreSQL server the tests create their databases on.
fn postgres_admin_url() -> String {
    std::env::var("PAIRLINK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("pairlink.db").display());
                Self {
                    url: url.parse().unwrap(),
                    _dir: Some(dir),
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("pairlink_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&postgres_admin_url().parse().unwrap())
                    .await
                    .expect("PostgreSQL must be running for the tests (see scripts/test.sh)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                admin.pool().close().await;
                let base = postgres_admin_url();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                Self {
                    url: url.parse().unwrap(),
                    _dir: None,
                    postgres_name: Some(name),
                }
            }
        }
    }

    pub async fn connect(&self) -> Database {
        let db = Database::connect(&self.url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }
}

impl TestDatabase {
    /// Removes a PostgreSQL database at once, under a running server's feet.
    pub async fn drop_now(&self) {
        let name = self.postgres_name.as_ref().expect("a PostgreSQL test database");
        let admin = Database::connect(&postgres_admin_url().parse().unwrap()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(admin.pool())
            .await
            .unwrap();
    }

    /// A placeholder that owns nothing, left behind when a database moves on.
    fn none() -> Self {
        Self {
            url: "sqlite://unused".parse().unwrap(),
            _dir: None,
            postgres_name: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else { return };
        // Drop runs outside any runtime we may block on, so use a short-lived one.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&postgres_admin_url().parse().unwrap()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(admin.pool())
                        .await;
                }
            });
        })
        .join();
    }
}

/// A running server; stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub database: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Stops the server and starts a new one (default settings) on the same database and
    /// the same address, as an operator's restart would.
    pub async fn restart(mut self) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stops cleanly");
        }
        let database = std::mem::replace(&mut self.database, TestDatabase::none());
        let config = ServeConfig::new(self.addr, database.url.clone());
        start(config, database).await
    }

    /// Stops the server as SIGTERM would and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stops cleanly");
        }
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub async fn display(&self, uuid: &str) -> Ws {
        connect(&self.ws_url(&format!("/ws/difficulty/unity/{uuid}")))
            .await
            .expect("display connects")
    }

    pub async fn controller(&self, uuid: &str) -> Ws {
        connect(&self.ws_url(&format!("/ws/difficulty/android/{uuid}")))
            .await
            .expect("controller connects")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Options for [`spawn`].
pub struct Setup {
    pub backend: Backend,
    /// Imported before the server starts (so the demo content is not loaded).
    pub catalog: Option<String>,
    pub limits: Limits,
    pub configure: Box<dyn FnOnce(&mut ServeConfig) + Send>,
}

impl Setup {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            catalog: None,
            limits: Limits::default(),
            configure: Box::new(|_| {}),
        }
    }

    /// Adjusts the rest of the server's settings.
    pub fn config(mut self, configure: impl FnOnce(&mut ServeConfig) + Send + 'static) -> Self {
        self.configure = Box::new(configure);
        self
    }

    pub fn catalog(mut self, json: String) -> Self {
        self.catalog = Some(json);
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// Starts a server on 127.0.0.1 with a free port and a fresh database.
pub async fn spawn(setup: Setup) -> TestApp {
    let database = TestDatabase::create(setup.backend).await;
    if let Some(json) = &setup.catalog {
        import_catalog(&database, json).await;
    }
    let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), database.url.clone());
    config.limits = setup.limits;
    (setup.configure)(&mut config);
    start(config, database).await
}

/// Writes the catalogue `json` into `database`, as `pairlink import` would.
pub async fn import_catalog(database: &TestDatabase, json: &str) {
    let db = database.connect().await;
    CatalogFile::parse_json(json.as_bytes())
        .unwrap()
        .write(&db)
        .await
        .unwrap();
    db.pool().close().await;
}

async fn start(config: ServeConfig, database: TestDatabase) -> TestApp {
    run(Application::build(config).await.expect("server builds"), database)
}

/// Runs a server the test has built itself (to keep a handle from it first).
pub fn run(app: Application, database: TestDatabase) -> TestApp {
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        database,
        stop: Some(stop),
        server: Some(server),
    }
}

pub async fn spawn_default(backend: Backend) -> TestApp {
    spawn(Setup::new(backend)).await
}

pub async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    connect_async(url).await.map(|(ws, _response)| ws)
}

/// The next data or close message, failing the test if none comes in time.
pub async fn next(ws: &mut Ws) -> Message {
    loop {
        let message = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message within the test's patience")
            .expect("the connection is still open")
            .expect("a valid frame");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

pub async fn next_text(ws: &mut Ws) -> String {
    match next(ws).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The next text message as JSON, checked against docs/asyncapi.yaml when it is one of
/// pairlink's own messages (see [`crate::schema::assert_sent`]).
pub async fn next_json(ws: &mut Ws) -> serde_json::Value {
    let value = serde_json::from_str(&next_text(ws).await).expect("JSON");
    crate::schema::assert_sent(&value);
    value
}

/// Waits for the server's close frame and returns it.
pub async fn next_close(ws: &mut Ws) -> CloseFrame {
    match next(ws).await {
        Message::Close(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Runs `scenario` as two tests: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(pairlink::db::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario(pairlink::db::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// A catalogue in which every difficulty has its own quiz and action ids, so that a
/// display message tells which difficulty (and therefore which pair) it answers:
/// difficulty `d` has quizzes `10d+1 ..= 10d+quizzes` and action `d`.
pub fn tagged_catalog(difficulties: impl IntoIterator<Item = i32>, quizzes: i32) -> String {
    let mut quiz_rows = Vec::new();
    let mut action_rows = Vec::new();
    for d in difficulties {
        for q in 1..=quizzes {
            quiz_rows.push(serde_json::json!({
                "id": 10 * d + q, "name": format!("quiz {d}.{q}"), "difficulty": d,
                "lef_sel": "left", "rig_sel": "right", "detail": ""
            }));
        }
        action_rows.push(serde_json::json!({
            "id": d, "difficulty": d, "lef_sel": "left", "rig_sel": "right", "detail": ""
        }));
    }
    serde_json::json!({ "quizzes": quiz_rows, "actions": action_rows }).to_string()
}

/// Opens a WebSocket by hand: the test can then send frames no client library would, or
/// stay silent (no reads, no pongs).
pub async fn raw_websocket(app: &TestApp, path: &str) -> TcpStream {
    raw_websocket_at(app.addr, path).await
}

/// [`raw_websocket`] to the server at `addr`.
pub async fn raw_websocket_at(addr: SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    read_switching_protocols(&mut stream).await;
    stream
}

/// Reads the server's answer to a handshake written by hand, byte by byte so that nothing
/// after it is consumed, and asserts it is `101 Switching Protocols`.
pub async fn read_switching_protocols(stream: &mut TcpStream) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
}

/// Opens a WebSocket the server must refuse before the upgrade; returns the HTTP status
/// and the JSON error body.
pub async fn refusal(url: &str) -> (u16, serde_json::Value) {
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = connect(url).await else {
        panic!("{url} was not refused with an HTTP error");
    };
    let body = serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("a JSON body");
    (response.status().as_u16(), body)
}

/// Reads messages until one whose `"type"` is `kind`, failing on anything else first.
pub async fn next_of_type(ws: &mut Ws, kind: &str) -> serde_json::Value {
    let message = next_json(ws).await;
    assert_eq!(message["type"], kind, "expected a {kind} message, got {message}");
    message
}

/// An HTTP response read off the wire.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request from `source` (any 127.x.y.z address: each is a different
/// client address to the server) and reads the whole response.
pub async fn http_from(source: std::net::IpAddr, app: &TestApp, method: &str, path: &str) -> HttpReply {
    request(source, app.addr, method, path, &[]).await
}

/// One HTTP/1.1 request with extra headers, from `source` to `addr`.
pub async fn request(
    source: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpReply {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    http_over(stream, &addr.to_string(), method, path, headers).await
}

/// Sends one HTTP/1.1 request for `host` with extra `headers` over `stream` (plain or
/// TLS) and reads the whole response.
pub async fn http_over<S>(mut stream: S, host: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> HttpReply
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpReply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// [`http_from`] 127.0.0.1.
pub async fn http(app: &TestApp, method: &str, path: &str) -> HttpReply {
    http_from([127, 0, 0, 1].into(), app, method, path).await
}

/// A request to a server at `addr` (e.g. a separate process).
pub async fn http_to(addr: SocketAddr, method: &str, path: &str) -> HttpReply {
    request([127, 0, 0, 1].into(), addr, method, path, &[]).await
}

/// Closes `ws` from the client's side and waits until the server has closed it too.
pub async fn close_and_wait(mut ws: Ws) {
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
}
