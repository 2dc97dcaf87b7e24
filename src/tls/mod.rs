//! HTTPS and WSS: the certificate pairlink presents, read from PEM files and swappable
//! while the server runs.
//!
//! [`Certificates`] holds the current certificate and answers every TLS handshake with
//! it; [`reload`] re-reads the files on SIGHUP or when they change. A new certificate
//! is used by the handshakes that follow; connections already open keep the one they
//! started with (TLS does not renegotiate).

pub mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Where the certificate and its key are, and how often to look for new ones.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM: the server's certificate first, then the intermediates (a `fullchain.pem`).
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// How often the files are checked for changes. Polled rather than watched with
    /// inotify: polling also sees a symlink repointed (certbot's `live/`, Kubernetes
    /// secrets) and files changed through a bind mount, where no event arrives.
    pub poll_interval: Duration,
}

impl TlsConfig {
    /// The files, checked for changes every 5 seconds.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// The certificate every new TLS handshake gets; replaced as a whole by [`Self::reload`].
#[derive(Debug)]
pub struct Certificates {
    files: TlsConfig,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
}

impl Certificates {
    /// Reads the files; an error names the file and what is wrong with it.
    pub fn load(files: TlsConfig) -> anyhow::Result<Arc<Self>> {
        // ring: it builds with the C compiler alone (aws-lc-rs wants more tools). Given
        // explicitly rather than installed as the process default, so nothing depends
        // on what else in the process chose first.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let loaded = read(&files, &provider)?;
        loaded.log(&files, "start-up");
        Ok(Arc::new(Self {
            files,
            provider,
            current: ArcSwap::from_pointee(loaded.key),
        }))
    }

    /// Reads the files again and, only if they hold a usable certificate and key,
    /// serves them from the next handshake on. `trigger` says why, for the log.
    pub fn reload(&self, trigger: &str) -> anyhow::Result<()> {
        let loaded = read(&self.files, &self.provider)?;
        loaded.log(&self.files, trigger);
        self.current.store(Arc::new(loaded.key));
        Ok(())
    }

    /// The certificate files.
    pub fn files(&self) -> &TlsConfig {
        &self.files
    }

    /// What accepts TLS connections with the current certificate: HTTP/1.1 only, the
    /// one protocol the accept loop speaks.
    pub fn acceptor(self: &Arc<Self>) -> TlsAcceptor {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// A certificate and key read from the files, with what the log says about them.
struct Loaded {
    key: CertifiedKey,
    subject: String,
    expires: String,
    expired: bool,
}

impl Loaded {
    fn log(&self, files: &TlsConfig, trigger: &str) {
        tracing::info!(
            cert = %files.cert.display(),
            key = %files.key.display(),
            subject = %self.subject,
            expires = %self.expires,
            trigger,
            "TLS certificate loaded"
        );
        if self.expired {
            tracing::warn!(cert = %files.cert.display(), expires = %self.expires,
                "the TLS certificate is not valid now: clients will refuse it");
        }
    }
}

fn read(files: &TlsConfig, provider: &CryptoProvider) -> anyhow::Result<Loaded> {
    let cert_pem = read_file(&files.cert, "certificate")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| anyhow!("{} is not a valid PEM certificate file ({err})", files.cert.display()))?;
    let Some(leaf) = chain.first() else {
        return Err(anyhow!(
            "{} holds no certificate (a PEM \"BEGIN CERTIFICATE\" block)",
            files.cert.display()
        ));
    };
    let (subject, expires, expired) = match x509_parser::parse_x509_certificate(leaf) {
        Ok((_, parsed)) => (
            parsed.subject().to_string(),
            parsed.validity().not_after.to_string(),
            !parsed.validity().is_valid(),
        ),
        Err(err) => {
            return Err(anyhow!(
                "{} holds a certificate that cannot be parsed ({err})",
                files.cert.display()
            ));
        }
    };

    let key_pem = read_file(&files.key, "private key")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|err| anyhow!("{} holds no usable PEM private key ({err})", files.key.display()))?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|err| anyhow!("the private key in {} cannot be used ({err})", files.key.display()))?;
    let key = CertifiedKey::new(chain, signing_key);
    match key.keys_match() {
        // Unknown: the key cannot tell its public half; the handshake will show.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(anyhow!(
                "the private key in {} does not belong to the certificate in {}",
                files.key.display(),
                files.cert.display()
            ));
        }
        Err(err) => {
            return Err(anyhow!(
                "{} holds a certificate that cannot be used ({err})",
                files.cert.display()
            ));
        }
    }
    Ok(Loaded {
        key,
        subject,
        expires,
        expired,
    })
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the TLS {what} {}", path.display()))
}
