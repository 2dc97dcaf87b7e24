//! The content API: the quiz and action catalogue over REST under `/api`, so teams can
//! manage content while the server runs instead of editing the database by hand.
//!
//! - [`resource`]: the five routes of each table and their SQL; every write reaches the
//!   in-memory catalogue before its response goes out.
//! - [`auth`]: the admin token that writes need; [`extract`]: query, id and body parsing;
//!   [`error`]: the one JSON error body; [`openapi`]: `/api/openapi.json`. Next to it,
//!   `/api/asyncapi.yaml` describes the WebSocket endpoints (docs/asyncapi.yaml).
//!
//! The rules a row obeys live with the rows, in [`crate::catalog::rows`], shared with
//! `pairlink import`. docs/content-api.md is the user's guide.

pub mod auth;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod resource;

use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use tokio::sync::Mutex;

use crate::backplane::Backplane;
use crate::catalog::SharedCatalog;
use crate::catalog::rows::{ActionRow, QuizRow};
use crate::db::Database;
pub use auth::AdminToken;

/// What the content API's handlers share.
#[derive(Clone)]
pub struct ContentApi {
    db: Database,
    /// `None`: writes are refused with 403.
    admin_token: Option<AdminToken>,
    /// The in-memory catalogue the draws read, changed with every write.
    catalog: SharedCatalog,
    /// Tells the other nodes of a cluster, so that their catalogues follow.
    backplane: Arc<dyn Backplane>,
    /// Held by a write from its database statement until the in-memory catalogue has
    /// the change; a tokio mutex because it is held across those awaits.
    writer: Arc<Mutex<()>>,
}

impl ContentApi {
    pub fn new(
        db: Database,
        admin_token: Option<AdminToken>,
        catalog: SharedCatalog,
        backplane: Arc<dyn Backplane>,
    ) -> Self {
        Self {
            db,
            admin_token,
            catalog,
            backplane,
            writer: Arc::new(Mutex::new(())),
        }
    }
}

/// The AsyncAPI 3.0 document of every WebSocket endpoint and message, written by hand
/// next to docs/protocol.md and checked by `scripts/asyncapi.sh` and tests/api/schema.rs.
pub const ASYNCAPI: &str = include_str!("../../docs/asyncapi.yaml");

/// The content API's routes, with their own state: they need nothing else of the server.
pub fn router<S: Clone + Send + Sync + 'static>(api: ContentApi) -> Router<S> {
    Router::new()
        .merge(resource::router::<QuizRow>())
        .merge(resource::router::<ActionRow>())
        .route(
            "/api/openapi.json",
            get(|| async { ([(CONTENT_TYPE, "application/json")], openapi::DOCUMENT.as_str()) }),
        )
        .route(
            "/api/asyncapi.yaml",
            get(|| async { ([(CONTENT_TYPE, "application/yaml")], ASYNCAPI) }),
        )
        .with_state(api)
}
