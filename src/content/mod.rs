//! The content API: the quiz and action catalogue over REST under `/api`, so teams can
//! manage content while the server runs instead of editing the database by hand.
//!
//! - [`resource`]: the five routes of each table and their SQL; every write reaches the
//!   in-memory catalogue before its response goes out.
//! - [`auth`]: the admin token that writes need; [`extract`]: query, id and body parsing;
//!   [`error`]: the one JSON error body; [`openapi`]: `/api/openapi.json`.
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

use crate::catalog::rows::{ActionRow, QuizRow};
use crate::db::Database;
use crate::state::AppState;
pub use auth::AdminToken;

/// What the content API's handlers share (part of [`AppState`]).
#[derive(Clone)]
pub struct ContentApi {
    db: Database,
    /// `None`: writes are refused with 403.
    admin_token: Option<AdminToken>,
    /// Held by a write from its database statement until the in-memory catalogue has
    /// the change; a tokio mutex because it is held across those awaits.
    writer: Arc<Mutex<()>>,
}

impl ContentApi {
    pub fn new(db: Database, admin_token: Option<AdminToken>) -> Self {
        Self {
            db,
            admin_token,
            writer: Arc::new(Mutex::new(())),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(resource::router::<QuizRow>())
        .merge(resource::router::<ActionRow>())
        .route(
            "/api/openapi.json",
            get(|| async { ([(CONTENT_TYPE, "application/json")], openapi::DOCUMENT.as_str()) }),
        )
}
