//! A node's subscription connection: its own channel, the catalogue and attachment
//! channels, and the channels of groups with members here. When it drops, the node
//! closes its group members (1012), reconnects with backoff, and registers its
//! connections again, since Redis may have restarted empty.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::wire::NodeMessage;
use super::{REDIS_TIMEOUT, RedisBroker, groups, members, pairs};

impl RedisBroker {
    /// Keeps the subscription connection up: subscribes, handles what arrives, and when
    /// it drops, reconnects and registers this node's connections again.
    pub(super) async fn subscribe_forever(self, mut first: Option<oneshot::Sender<()>>) {
        let mut backoff = Duration::from_millis(100);
        let mut reconnecting = false;
        loop {
            match self.subscribe(reconnecting).await {
                Ok(mut stream) => {
                    backoff = Duration::from_millis(100);
                    self.0.subscribed.store(true, Ordering::Relaxed);
                    self.set_ready(true);
                    if let Some(first) = first.take() {
                        let _ = first.send(());
                    }
                    while let Some(message) = stream.next().await {
                        self.dispatch(message).await;
                    }
                    tracing::warn!("lost the Redis subscription; reconnecting");
                    members::close_all_members(&self);
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
            tokio::spawn(self.clone().reload_catalog());
            tracing::info!("reconnected to Redis: connections registered again");
        }
        Ok(stream)
    }

    /// Registers this node's connections and members again (after Redis came back).
    pub(super) async fn reregister(&self) -> anyhow::Result<()> {
        pairs::reregister(self).await?;
        groups::reregister(self).await
    }

    pub(super) async fn dispatch(&self, message: redis::Msg) {
        let channel = message.get_channel_name().to_owned();
        let payload = message.get_payload_bytes();
        let keys = &self.0.keys;
        if channel == keys.node_channel(&self.0.node) {
            match serde_json::from_slice::<NodeMessage>(payload) {
                Ok(request) => self.on_node_message(request).await,
                Err(err) => tracing::warn!(%err, "unreadable message on this node's channel"),
            }
        } else if channel == keys.catalog_channel() {
            self.on_catalog_change(payload);
        } else if channel == keys.attached_channel() {
            if let Ok(device) = std::str::from_utf8(payload).unwrap_or_default().parse() {
                let _ = self.0.attached.send(device);
            }
        } else if let Some(group) = keys.group_of_channel(&channel) {
            members::on_envelope(self, &group, payload);
        }
    }

    pub(super) async fn on_node_message(&self, request: NodeMessage) {
        match request {
            NodeMessage::Outcome { req, outcome } => {
                if let Some(waiting) = self.pending().remove(&req) {
                    let _ = waiting.send(outcome);
                }
            }
            NodeMessage::Deliver {
                req,
                reply_to,
                peer,
                wait,
                frame,
            } => {
                // Answered from a task: a write that waits must not hold up this channel.
                let broker = self.clone();
                tokio::spawn(async move {
                    let outcome = pairs::deliver_here(&broker, peer, wait, frame.into_message()).await;
                    broker.answer(&reply_to, req, outcome).await;
                });
            }
            NodeMessage::Member {
                req,
                reply_to,
                group,
                to,
                frame,
            } => {
                let outcome = members::deliver_to_member_here(self, &group, to, frame.into_message());
                // Answered from a task, so that this channel's next message is not held up.
                let broker = self.clone();
                tokio::spawn(async move { broker.answer(&reply_to, req, outcome).await });
            }
            NodeMessage::Replaced { peer, holder } => pairs::on_replaced(self, peer, &holder).await,
        }
    }
}
