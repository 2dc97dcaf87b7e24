//! A connection's membership of a group (the chat hub, a room, a signaling room): joined
//! before the 101 goes out, so the welcome is the first thing the client reads and no
//! message published after the upgrade can miss it; left when the connection ends.

use std::sync::Arc;

use crate::session::WebSocketUpgrade;
use axum::response::Response;
use tungstenite::Message;

use crate::address::Group;
use crate::hub::{Hub, Joining, Welcome};
use crate::metrics::Kind;
use crate::protocol::ClientId;
use crate::protocol::Version;
use crate::protocol::rooms::MemberCard;
use crate::session::Handler;
use crate::session::refusal::Refusal;
use crate::state::AppState;

/// Ended by [`Membership::leave`] in the normal course or, if the connection never
/// started or its task panicked, when dropped.
pub struct Membership {
    pub hub: Arc<Hub>,
    pub group: Group,
    pub id: ClientId,
    left: bool,
}

impl Membership {
    pub async fn leave(&mut self) {
        if !self.left {
            self.left = true;
            self.hub.leave(&self.group, self.id).await;
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if !self.left {
            let (hub, group, id) = (self.hub.clone(), self.group.clone(), self.id);
            tokio::spawn(async move { hub.leave(&group, id).await });
        }
    }
}

/// How a connection joins its group.
pub struct Entry {
    pub group: Group,
    pub card: MemberCard,
    /// Replay the retained messages after this sequence number (rooms' `?since=`).
    pub since: Option<u64>,
    /// Makes the joiner's first message from the group as it finds it.
    pub welcome: Option<Welcome>,
    /// Told to the members already there.
    pub notice: Option<Message>,
    /// Told to the remaining members when this one leaves.
    pub farewell: Option<Message>,
    /// Whether the member wants to hear the others' notices (see [`Joining`]).
    pub wants_notices: bool,
}

/// Takes a connection slot, joins the group, answers the upgrade, and runs the
/// connection with the handler made from its membership.
pub async fn accept<H: Handler + 'static>(
    app: &AppState,
    version: Version,
    upgrade: WebSocketUpgrade,
    entry: Entry,
    handler: impl FnOnce(Membership) -> H,
) -> Response {
    let kind = match &entry.group {
        Group::ChatHub => Kind::ChatHub,
        Group::Room(_) => Kind::Room,
        Group::Signal(_) => Kind::Signal,
    };
    let admission = match app.sessions.admit(kind) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.respond(version, Ok(upgrade)),
    };
    // Room for the welcome and a full replay on top of the usual queue.
    let (outbox, inbox) = app.sessions.outbox_with_headroom(app.room_history + 1);
    let Entry {
        group,
        card,
        since,
        welcome,
        notice,
        farewell,
        wants_notices,
    } = entry;
    let id = card.id;
    let joining = Joining {
        card,
        outbox,
        since,
        welcome,
        notice,
        farewell,
        wants_notices,
    };
    if let Err(unavailable) = app.hub.join(&group, joining).await {
        return Refusal::from(&unavailable).respond(version, Ok(upgrade));
    }
    let membership = Membership {
        hub: app.hub.clone(),
        group,
        id,
        left: false,
    };
    if let Group::Room(room) | Group::Signal(room) = &membership.group {
        admission.subject(room);
    }
    admission.upgrade(version, upgrade, inbox, handler(membership))
}
