//! Keeping every node's in-memory catalogue in step: content API writes are announced on
//! a channel with a version number; a node that sees a gap, or stays behind the version
//! in Redis for two checks, reads the whole catalogue from the database again.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{RedisBackplane, scripts};
use crate::backplane::CatalogChange;
use crate::catalog::store;
use crate::metrics::METRICS;

impl RedisBackplane {
    /// Reads the catalogue again, for changes announced while this node was not listening;
    /// retries until the database answers.
    pub(super) async fn reload_catalog(self) {
        let mut wait = Duration::from_millis(200);
        loop {
            // The version first: a change after it is applied again when announced, which
            // is harmless (applying a move twice leaves the id listed once).
            let version: redis::RedisResult<Option<u64>> = redis::cmd("GET")
                .arg(self.0.keys.catalog_version())
                .query_async(&mut self.redis())
                .await;
            let loaded = match version {
                Ok(version) => store::load(&self.0.db)
                    .await
                    .map(|catalog| (version.unwrap_or(0), catalog)),
                Err(err) => Err(err.into()),
            };
            match loaded {
                Ok((version, catalog)) => {
                    self.0.catalog.replace(catalog);
                    self.0.catalog_version.fetch_max(version, Ordering::Relaxed);
                    tracing::info!("catalogue reloaded after reconnecting to Redis");
                    return;
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot reload the catalogue yet");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// A change announced as `{version}\n{json}`: applied if it is the next version; a
    /// version further ahead means one was missed, so the catalogue is read again.
    pub(super) fn on_catalog_change(&self, payload: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Announced {
            node: String,
            change: CatalogChange,
        }
        let parsed = std::str::from_utf8(payload).ok().and_then(|text| {
            let (version, json) = text.split_once('\n')?;
            Some((
                version.parse::<u64>().ok()?,
                serde_json::from_str::<Announced>(json).ok()?,
            ))
        });
        let Some((version, announced)) = parsed else {
            tracing::warn!("unreadable catalogue change");
            return;
        };
        let last = self.0.catalog_version.load(Ordering::Relaxed);
        if version <= last {
            return;
        }
        if version > last + 1 {
            tracing::warn!(last, version, "missed a catalogue change; reading the catalogue again");
            self.spawn(self.clone().reload_catalog());
            return;
        }
        // This node's own changes were applied when they were made.
        if announced.node != self.0.node {
            let CatalogChange { table, id, from, to } = announced.change;
            self.0.catalog.apply(table, id, from, to);
        }
        self.0.catalog_version.store(version, Ordering::Relaxed);
    }

    /// Reads the catalogue again if its version stayed behind Redis's for two checks
    /// (an announcement lost without the subscription dropping).
    pub(super) async fn check_catalog_version(&self) -> redis::RedisResult<()> {
        let current: Option<u64> = redis::cmd("GET")
            .arg(self.0.keys.catalog_version())
            .query_async(&mut self.redis())
            .await?;
        let current = current.unwrap_or(0);
        let last = self.0.catalog_version.load(Ordering::Relaxed);
        let seen_before = self
            .0
            .catalog_behind
            .swap(if current > last { current } else { 0 }, Ordering::Relaxed);
        // Behind now, and still short of what was already there at the last check.
        if current > last && seen_before > last {
            tracing::warn!(last, current, "the catalogue stayed behind; reading it again");
            self.spawn(self.clone().reload_catalog());
        }
        Ok(())
    }

    pub(super) async fn announce(&self, payload: &str) -> redis::RedisResult<u64> {
        METRICS.redis_round_trips.inc();
        scripts::CATALOG_CHANGE
            .key(self.0.keys.catalog_version())
            .arg(self.0.keys.catalog_channel())
            .arg(payload)
            .invoke_async(&mut self.redis())
            .await
    }
}
