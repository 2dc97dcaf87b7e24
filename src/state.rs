//! What every request handler shares: [`AppState`]. It imports no router, so feature
//! modules can take it without depending on the module that assembles them ([`crate::app`]).

use std::sync::Arc;

use crate::auth::Auth;
use crate::catalog::SharedCatalog;
use crate::content::ContentApi;
use crate::db::Database;
use crate::hub::Hub;
use crate::lifecycle::Tasks;
use crate::origins::OriginPolicy;
use crate::pairing::codes::PairingCodes;
use crate::pairing::held::HeldDraws;
use crate::session::Sessions;
use crate::stats::Throughput;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub catalog: SharedCatalog,
    /// This node's connections, and through it the other nodes'.
    pub hub: Arc<Hub>,
    pub sessions: Sessions,
    /// Background work that ends with the server.
    pub tasks: Tasks,
    /// Draws waiting for an offline display, when `--hold-for` is set.
    pub held: Option<HeldDraws>,
    /// Pairing codes' settings and the guard against guessing them.
    pub codes: Arc<PairingCodes>,
    /// Messages a room keeps (`--room-history`): a joining member's queue has room for
    /// its replay on top of `--queue-capacity`.
    pub room_history: usize,
    /// The content API (`/api`): its database and admin token.
    pub content: ContentApi,
    /// The catalogue database, for readiness probes.
    pub db: Database,
    /// Connection tokens, when `--auth-secret` is set.
    pub auth: Option<Auth>,
    /// Which browser origins may connect.
    pub origins: OriginPolicy,
    /// Messages per second and uptime, for `GET /api/stats`.
    pub throughput: Throughput,
}
