//! A node's subscription connection: its own channel, the catalogue and attachment
//! channels, and the channels of groups with members here. When it drops, the node
//! closes its group members (1012), reconnects with backoff, and registers its
//! connections again, since Redis may have restarted empty.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;

use super::keys::{NodeMessage, parse_envelope, parse_node_messages};
use super::{REDIS_TIMEOUT, RedisBackplane, groups, pairs};

impl RedisBackplane {
    /// Keeps the subscription connection up: subscribes, handles what arrives, and when
    /// it drops, reconnects and registers this node's connections again.
    pub(super) async fn subscribe_forever(self) {
        let mut backoff = Duration::from_millis(100);
        let mut reconnecting = false;
        loop {
            match self.subscribe(reconnecting).await {
                Ok(mut stream) => {
                    backoff = Duration::from_millis(100);
                    self.0.subscribed.store(true, Ordering::Relaxed);
                    self.set_ready(true);
                    self.0.first_subscription.notify_waiters();
                    while let Some(message) = stream.next().await {
                        self.dispatch(message).await;
                    }
                    tracing::warn!("lost the Redis subscription; reconnecting");
                    if let Some(inbound) = self.inbound() {
                        inbound.members_missed();
                    }
                }
                Err(err) => tracing::debug!(%err, "cannot subscribe to Redis yet"),
            }
            self.0.subscribed.store(false, Ordering::Relaxed);
            self.0.subscriptions.lock().await.sink = None;
            self.set_ready(false);
            reconnecting = true;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    pub(super) async fn subscribe(&self, reconnecting: bool) -> anyhow::Result<redis::aio::PubSubStream> {
        let pubsub = tokio::time::timeout(REDIS_TIMEOUT, self.0.client.get_async_pubsub())
            .await
            .context("no answer")??;
        let (mut sink, stream) = pubsub.split();
        let keys = &self.0.keys;
        sink.subscribe(&[
            keys.node_channel(&self.0.node),
            keys.catalog_channel(),
            keys.attached_channel(),
        ])
        .await?;
        let mut subscriptions = self.0.subscriptions.lock().await;
        for channel in subscriptions.groups.keys() {
            sink.subscribe(channel).await?;
        }
        subscriptions.sink = Some(sink);
        drop(subscriptions);
        if reconnecting {
            // Redis may have restarted empty, and messages were missed meanwhile.
            self.heartbeat().await?;
            self.reregister().await?;
            self.recheck_presence().await;
            self.spawn(self.clone().reload_catalog());
            tracing::info!("reconnected to Redis: connections registered again");
        }
        Ok(stream)
    }

    /// Registers this node's connections and members again (after Redis came back).
    pub(super) async fn reregister(&self) -> anyhow::Result<()> {
        let Some(inbound) = self.inbound() else { return Ok(()) };
        let registrations = inbound.registrations();
        pairs::reregister(self, inbound.as_ref(), &registrations).await?;
        groups::reregister(self, &registrations).await
    }

    pub(super) async fn dispatch(&self, message: redis::Msg) {
        let channel = message.get_channel_name().to_owned();
        let Some(inbound) = self.inbound() else { return };
        let keys = &self.0.keys;
        if channel == keys.node_channel(&self.0.node) {
            match parse_node_messages(message.get_payload_bytes()) {
                Ok(requests) => {
                    for request in requests {
                        self.on_node_message(request, inbound.clone());
                    }
                }
                Err(err) => tracing::warn!(%err, "unreadable message on this node's channel"),
            }
        } else if channel == keys.catalog_channel() {
            self.on_catalog_change(message.get_payload_bytes());
        } else if channel == keys.attached_channel() {
            let payload = std::str::from_utf8(message.get_payload_bytes()).unwrap_or_default();
            if let Ok(device) = payload.parse() {
                inbound.display_attached(device);
            }
        } else if let Some(group) = keys.group_of_channel(&channel) {
            let payload = axum::body::Bytes::copy_from_slice(message.get_payload_bytes());
            match parse_envelope(&payload) {
                Some(envelope) => inbound.envelope(&group, envelope),
                None => tracing::warn!("unreadable message on a group channel"),
            }
        }
    }

    fn on_node_message(&self, request: NodeMessage, inbound: std::sync::Arc<dyn crate::backplane::Inbound>) {
        match request {
            NodeMessage::Outcome { req, outcome } => {
                if let Some(waiting) = self.pending().remove(&req) {
                    let _ = waiting.send(outcome);
                }
            }
            NodeMessage::Route { req, reply_to, routed } => {
                // Answered from a task: a write that waits must not hold up this channel.
                let backplane = self.clone();
                self.spawn(async move {
                    let outcome = inbound.routed(routed).await;
                    if req != 0 {
                        backplane.answer(&reply_to, req, outcome).await;
                    }
                });
            }
            NodeMessage::Replaced { peer, holder } => {
                if let Some(generation) = pairs::generation_of(&self.0.node, &holder) {
                    inbound.replaced(peer, generation);
                }
            }
        }
    }
}
