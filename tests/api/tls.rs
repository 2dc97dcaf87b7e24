//! HTTPS and WSS with a certificate made for the test (rcgen), checked by clients that
//! trust only the test's certificate authority; certificate reload on file change, on
//! request and on SIGHUP; the TLS flags as an operator meets them.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use pairlink::app::Application;
use pairlink::config::ServeConfig;
use pairlink::db::Backend;
use pairlink::tls::{Certificates, TlsConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::Connector;

use crate::cli::{KillOnDrop, assert_one_clear_sentence, command, pairlink};
use crate::helpers::*;
use crate::pairing_codes::decode_qr;

const UUID: &str = "5b0f2a7e-8c61-4d3a-9f3e-2a41c0d9b7e4";

/// A certificate authority that exists for one test.
struct TestCa(CertifiedIssuer<'static, KeyPair>);

/// A server certificate for `localhost` and `127.0.0.1`, and its key.
struct ServerCert {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        Self(CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap())
    }

    fn issue(&self) -> ServerCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &self.0).unwrap();
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// A client configuration that trusts these authorities and no other. It resumes no
/// session, so every connection is shown, and checks, the server's current certificate.
fn trusting(authorities: &[&TestCa]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for ca in authorities {
        roots.add(ca.0.der().clone()).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// The certificate and key files the server reads.
struct CertFiles {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl CertFiles {
    fn new(server: &ServerCert) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = Self {
            cert: dir.path().join("fullchain.pem"),
            key: dir.path().join("privkey.pem"),
            dir,
        };
        files.replace(&server.cert_pem, &server.key_pem);
        files
    }

    /// Replaces both files as renewal tools do: written aside, then renamed over.
    fn replace(&self, cert_pem: &str, key_pem: &str) {
        for (path, contents) in [(&self.key, key_pem), (&self.cert, cert_pem)] {
            let aside = self.dir.path().join("new.tmp");
            std::fs::write(&aside, contents).unwrap();
            std::fs::rename(&aside, path).unwrap();
        }
    }

    /// The files, checked for changes often so that tests wait little.
    fn config(&self) -> TlsConfig {
        TlsConfig {
            poll_interval: Duration::from_millis(50),
            ..TlsConfig::new(&self.cert, &self.key)
        }
    }
}

/// Starts a server that serves `files`, with the handle that reloads them.
async fn spawn_tls(files: &CertFiles, configure: impl FnOnce(&mut ServeConfig)) -> (TestApp, Arc<Certificates>) {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), database.url.clone());
    config.tls = Some(files.config());
    configure(&mut config);
    let app = Application::build(config).await.expect("server builds");
    let certs = app.tls_certificates().expect("TLS is on");
    (run(app, database), certs)
}

async fn wss(
    addr: SocketAddr,
    path: &str,
    trust: &Arc<ClientConfig>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!("wss://127.0.0.1:{}{path}", addr.port());
    let connector = Some(Connector::Rustls(trust.clone()));
    tokio_tungstenite::connect_async_tls_with_config(url, None, false, connector)
        .await
        .map(|(ws, _response)| ws)
}

async fn tls_to(
    addr: SocketAddr,
    trust: &Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(trust.clone()).connect(name, tcp).await
}

async fn https(addr: SocketAddr, trust: &Arc<ClientConfig>, method: &str, path: &str) -> HttpReply {
    let stream = tls_to(addr, trust).await.expect("TLS handshake");
    http_over(stream, &format!("localhost:{}", addr.port()), method, path, &[]).await
}

/// The certificate a new connection is shown.
async fn presented(addr: SocketAddr, trust: &Arc<ClientConfig>) -> CertificateDer<'static> {
    let stream = tls_to(addr, trust).await.expect("TLS handshake");
    stream.get_ref().1.peer_certificates().expect("a certificate")[0].clone()
}

/// Waits until new connections are shown `expected`, failing after the test's patience.
async fn until_presented(addr: SocketAddr, trust: &Arc<ClientConfig>, expected: &CertificateDer<'_>) {
    let deadline = Instant::now() + PATIENCE;
    while presented(addr, trust).await != *expected {
        assert!(Instant::now() < deadline, "the new certificate was not served in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A display and its controller, connected over WSS.
async fn wss_pair(addr: SocketAddr, trust: &Arc<ClientConfig>) -> (Ws, Ws) {
    let display = wss(addr, &format!("/ws/difficulty/unity/{UUID}"), trust)
        .await
        .expect("display connects");
    let controller = wss(addr, &format!("/ws/difficulty/android/{UUID}"), trust)
        .await
        .expect("controller connects");
    (display, controller)
}

/// One difficulty and what it brings: the seed's exchange.
async fn pair_once(display: &mut Ws, controller: &mut Ws) {
    send_text(controller, r#"{"difficulty":1}"#).await;
    let draw = next_json(display).await;
    assert!(draw["quiz_id"].is_array() && draw["action_id"].is_number(), "{draw}");
    assert_eq!(next_text(controller).await, r#"{"status":"received"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_display_and_its_controller_pair_over_wss() {
    let ca = TestCa::new("pairlink test CA");
    let files = CertFiles::new(&ca.issue());
    let (app, _) = spawn_tls(&files, |_| {}).await;

    let (mut display, mut controller) = wss_pair(app.addr, &trusting(&[&ca])).await;
    pair_once(&mut display, &mut controller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn https_serves_plain_requests_and_join_urls_say_wss() {
    let ca = TestCa::new("pairlink test CA");
    let files = CertFiles::new(&ca.issue());
    let (app, _) = spawn_tls(&files, |_| {}).await;
    let trust = trusting(&[&ca]);

    let health = https(app.addr, &trust, "GET", "/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    let _display = wss(app.addr, &format!("/ws/difficulty/unity/{UUID}"), &trust)
        .await
        .expect("display connects");
    let code = https(app.addr, &trust, "POST", &format!("/api/pairings/{UUID}/code"))
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let qr = https(app.addr, &trust, "GET", &format!("/api/pairings/code/{code}/qr.svg")).await;
    assert_eq!(
        decode_qr(&qr.body),
        format!("wss://localhost:{}/ws/join/{code}", app.addr.port())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_without_tls_or_without_trust_in_the_authority_are_refused() {
    let ca = TestCa::new("pairlink test CA");
    let files = CertFiles::new(&ca.issue());
    let (app, _) = spawn_tls(&files, |_| {}).await;

    assert!(connect(&app.ws_url("/echo")).await.is_err(), "ws:// to a TLS server");
    let stranger = TestCa::new("some other CA");
    let Err(err) = wss(app.addr, "/echo", &trusting(&[&stranger])).await else {
        panic!("a client that does not trust the authority connected");
    };
    assert!(err.to_string().contains("invalid peer certificate"), "{err}");

    // The server is unaffected by either.
    wss(app.addr, "/echo", &trusting(&[&ca]))
        .await
        .expect("a trusting client connects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_never_finishes_the_tls_handshake_is_dropped() {
    let ca = TestCa::new("pairlink test CA");
    let files = CertFiles::new(&ca.issue());
    let (app, _) = spawn_tls(&files, |c| c.handshake_timeout = Duration::from_millis(300)).await;

    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, silent.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the server kept a client that never started TLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renewed_files_reach_new_connections_and_spare_open_ones() {
    let first = TestCa::new("first CA");
    let files = CertFiles::new(&first.issue());
    let (app, _) = spawn_tls(&files, |_| {}).await;
    let trust_first = trusting(&[&first]);
    let (mut display, mut controller) = wss_pair(app.addr, &trust_first).await;

    let second = TestCa::new("second CA");
    let renewed = second.issue();
    files.replace(&renewed.cert_pem, &renewed.key_pem);
    until_presented(app.addr, &trusting(&[&first, &second]), &renewed.der).await;

    assert!(
        wss(app.addr, "/echo", &trust_first).await.is_err(),
        "still the old certificate"
    );
    wss(app.addr, "/echo", &trusting(&[&second]))
        .await
        .expect("the new certificate verifies");
    pair_once(&mut display, &mut controller).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_replacement_is_refused_and_the_old_certificate_stays() {
    let first = TestCa::new("first CA");
    let original = first.issue();
    let files = CertFiles::new(&original);
    let (app, certs) = spawn_tls(&files, |_| {}).await;
    let second = TestCa::new("second CA");
    let trust_both = trusting(&[&first, &second]);
    let renewed = second.issue();

    // No state on the way is a valid pair: the server's own watcher sees them too.
    files.replace(&renewed.cert_pem, &original.key_pem);
    let err = certs.reload("test").unwrap_err().to_string();
    assert!(err.contains("does not belong to the certificate"), "{err}");
    files.replace("not a certificate\n", &original.key_pem);
    let err = certs.reload("test").unwrap_err().to_string();
    assert!(err.contains("fullchain.pem holds no certificate"), "{err}");
    assert_eq!(presented(app.addr, &trust_both).await, original.der);

    files.replace(&renewed.cert_pem, &renewed.key_pem);
    certs.reload("test").expect("a good pair loads");
    assert_eq!(presented(app.addr, &trust_both).await, renewed.der);
}

#[test]
fn tls_flags_come_in_pairs_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for half in [["--tls-cert", "cert.pem"], ["--tls-key", "key.pem"]] {
        let args = ["serve", half[0], half[1]];
        assert_one_clear_sentence(&pairlink(dir.path(), &args), 2, "--tls-cert and --tls-key go together");
    }

    let serve = |cert: &Path, key: &Path| {
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        pairlink(
            dir.path(),
            &["serve", "--bind", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key],
        )
    };
    let ca = TestCa::new("pairlink test CA");
    let (one, other) = (ca.issue(), ca.issue());
    let files = CertFiles::new(&one);
    let missing = dir.path().join("missing.pem");
    assert_one_clear_sentence(
        &serve(&missing, &files.key),
        1,
        &format!("cannot read the TLS certificate {}", missing.display()),
    );
    files.replace(&one.cert_pem, &other.key_pem);
    assert_one_clear_sentence(
        &serve(&files.cert, &files.key),
        1,
        &format!(
            "the private key in {} does not belong to the certificate in {}",
            files.key.display(),
            files.cert.display()
        ),
    );
    files.replace(&one.cert_pem, "-----BEGIN PRIVATE KEY-----\n");
    assert_one_clear_sentence(
        &serve(&files.cert, &files.key),
        1,
        &format!("{} holds no usable PEM private key", files.key.display()),
    );
}

/// The binary, not the library: SIGHUP must reach the handler and not end the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_makes_the_server_read_its_certificate_again() {
    let first = TestCa::new("first CA");
    let original = first.issue();
    let files = CertFiles::new(&original);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (files.cert.to_str().unwrap(), files.key.to_str().unwrap());
    let mut child = KillOnDrop(
        command(
            dir.path(),
            &["serve", "--bind", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key],
        )
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let log = log_lines(child.0.stderr.take().unwrap());
    let line = wait_for_line(&log, "pairlink is listening");
    let addr: SocketAddr = line
        .split("address=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let second = TestCa::new("second CA");
    let trust_both = trusting(&[&first, &second]);
    assert_eq!(presented(addr, &trust_both).await, original.der);

    let renewed = second.issue();
    files.replace(&renewed.cert_pem, &renewed.key_pem);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let loaded = wait_for_line(&log, "SIGHUP");
    assert!(loaded.contains("TLS certificate loaded"), "{loaded}");
    assert_eq!(presented(addr, &trust_both).await, renewed.der);
    assert_eq!(child.0.try_wait().unwrap(), None, "the server is still running");
}

/// The lines a child process writes to `stderr`, as they come.
fn log_lines(stderr: std::process::ChildStderr) -> Receiver<String> {
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    log
}

fn wait_for_line(log: &Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = log
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no log line with {needle:?} in time"));
        if line.contains(needle) {
            return line;
        }
    }
}
