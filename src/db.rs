//! The catalogue's database: which backend a URL names, connecting, and migrations.
//!
//! SQLite (embedded, the default) and PostgreSQL share one code path through sqlx's
//! `Any` driver; the queries elsewhere are written in the SQL both understand. Only the
//! schema differs (`SERIAL` versus SQLite's rowid), so each backend has its own embedded
//! migration directory with the same migrations in it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The database engine behind a [`DatabaseUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A validated database URL: `sqlite://FILE` (created if missing) or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to hand to the driver. For SQLite, `mode=rwc` is added unless the URL
    /// chose a mode, so that a missing database file is created.
    fn connect_url(&self) -> String {
        if self.backend == Backend::Sqlite && !self.url.contains("mode=") {
            let separator = if self.url.contains('?') { '&' } else { '?' };
            format!("{}{separator}mode=rwc", self.url)
        } else {
            self.url.clone()
        }
    }
}

/// Shows the URL with any password replaced, so it can go into messages and logs.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_password(&self.url))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(format!(
                "'{}' is not a supported database URL; use sqlite://FILE or postgres://USER@HOST/DB",
                redact_password(url)
            ));
        };
        Ok(Self {
            url: url.to_owned(),
            backend,
        })
    }
}

fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        ),
        _ => url.to_owned(),
    }
}

/// A connection pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects, failing within a few seconds when the server cannot be reached.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        install_default_drivers();
        let max_connections = match url.backend {
            // One writer at a time is all SQLite allows; more connections only contend.
            Backend::Sqlite => 1,
            Backend::Postgres => 8,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url.connect_url())
            .await
            .with_context(|| format!("cannot connect to the database at {url}"))?;
        Ok(Self {
            pool,
            backend: url.backend,
        })
    }

    /// Applies the migrations this database has not seen yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("cannot apply the database migrations")
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_backends_and_rejects_others() {
        let sqlite: DatabaseUrl = "sqlite://pairlink.db".parse().unwrap();
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(sqlite.connect_url(), "sqlite://pairlink.db?mode=rwc");
        let pg: DatabaseUrl = "postgresql://u@localhost/db".parse().unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        let err = "mysql://root@localhost/db".parse::<DatabaseUrl>().unwrap_err();
        assert!(err.contains("not a supported database URL"), "{err}");
    }

    #[test]
    fn keeps_an_explicit_sqlite_mode() {
        let url: DatabaseUrl = "sqlite://a.db?mode=ro".parse().unwrap();
        assert_eq!(url.connect_url(), "sqlite://a.db?mode=ro");
    }

    #[test]
    fn hides_passwords_when_shown() {
        let url: DatabaseUrl = "postgres://app:s3cret@db:5432/pairlink".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/pairlink");
        let no_password: DatabaseUrl = "postgres://app@db/pairlink".parse().unwrap();
        assert_eq!(no_password.to_string(), "postgres://app@db/pairlink");
    }
}
