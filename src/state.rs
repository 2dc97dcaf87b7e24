//! What every request handler shares: [`AppState`]. It holds only what lies below the
//! features (the hub, sessions, the catalogue, settings), so that feature modules can take
//! it without depending on each other or on the module that assembles them ([`crate::app`]).

use std::sync::Arc;

use crate::auth::Auth;
use crate::catalog::SharedCatalog;
use crate::config::CodePolicy;
use crate::db::Database;
use crate::held::HeldDraws;
use crate::hub::Hub;
use crate::lifecycle::Tasks;
use crate::metrics::throughput::Throughput;
use crate::origins::OriginPolicy;
use crate::session::Sessions;

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
    /// How pairing codes are issued (`--code-ttl`, `--public-url`).
    pub code_policy: Arc<CodePolicy>,
    /// Messages a room keeps (`--room-history`): a joining member's queue has room for
    /// its replay on top of `--queue-capacity`.
    pub room_history: usize,
    /// The catalogue database, for readiness probes.
    pub db: Database,
    /// Connection tokens, when `--auth-secret` is set.
    pub auth: Option<Auth>,
    /// Which browser origins may connect.
    pub origins: OriginPolicy,
    /// Messages per second and uptime, for `GET /api/stats`.
    pub throughput: Throughput,
}
