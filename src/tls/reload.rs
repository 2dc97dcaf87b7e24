//! When the certificate is read again: on SIGHUP, and when either file changes.
//!
//! Renewal tools (certbot, acme.sh, cert-manager) replace the files and at most send a
//! signal, so pairlink notices both. A reload that fails keeps the certificate in use:
//! a half-written or mismatched pair must never take a working server down.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::MissedTickBehavior;

use super::Certificates;
use crate::lifecycle::Tasks;

/// Reloads `certs` until the server stops. SIGHUP is listened for from this call on,
/// before the task first runs: a signal sent once the server answers reloads instead of
/// ending the process (SIGHUP's default).
pub fn spawn(certs: Arc<Certificates>, tasks: &Tasks) {
    let hangups = Hangups::new();
    tasks.spawn(watch(certs, hangups));
}

async fn watch(certs: Arc<Certificates>, mut hangups: Hangups) {
    let mut ticks = tokio::time::interval(certs.files().poll_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seen = Stamp::of(&certs);
    loop {
        let trigger = tokio::select! {
            () = hangups.next() => "SIGHUP",
            _ = ticks.tick() => {
                let now = Stamp::of(&certs);
                if now == seen {
                    continue;
                }
                seen = now;
                "file change"
            }
        };
        if let Err(err) = certs.reload(trigger) {
            tracing::error!(trigger, error = %format!("{err:#}"), "cannot reload the TLS certificate: still serving the previous one");
        }
    }
}

/// What identifies a version of both files without reading them: a file replaced by a
/// rename gets a new inode, one rewritten in place a new modification time or length.
/// Paths are followed through symlinks, so a repointed link counts as a change.
#[derive(Debug, PartialEq, Eq)]
struct Stamp([Option<(SystemTime, u64, u64)>; 2]);

impl Stamp {
    fn of(certs: &Certificates) -> Self {
        let files = certs.files();
        Self([file_stamp(&files.cert), file_stamp(&files.key)])
    }
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

/// SIGHUP, the usual "reload your configuration" signal; never fires where it does not
/// exist or cannot be listened for.
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(
                    |err| tracing::error!(%err, "cannot listen for SIGHUP; certificate files are still watched"),
                )
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}
