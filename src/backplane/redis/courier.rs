//! Publishing on other nodes' channels in batches. Under load many deliveries and their
//! outcomes go to the same node at once (fifty draws in flight between two nodes);
//! published one by one, each is a Redis command, a pub/sub message and a wake-up of
//! the receiving node. A courier per node channel publishes at most one message at a
//! time: what was handed to it while that publish was on its way goes in the next one,
//! as a JSON array of the node messages. Alone, a message goes at once as it is, so
//! batching adds no delay at low load; under load it is what Nagle's algorithm does
//! without its timer. Messages to one node keep their order, as before.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::{RedisBackplane, Unavailable};

/// Most node messages in one publish, so that one payload stays small.
const MOST_PER_BATCH: usize = 64;
/// Messages waiting for a node's courier; a sender waits for room beyond it.
const QUEUE: usize = 1024;

/// A node message handed to a courier, and who waits for it to be published.
pub struct Letter {
    pub payload: Vec<u8>,
    /// Told how many nodes received the publish carrying it (0: the node is gone).
    pub published: Option<oneshot::Sender<Result<i64, Unavailable>>>,
}

/// The couriers, by node channel.
#[derive(Default)]
pub struct Couriers(std::sync::Mutex<HashMap<String, mpsc::Sender<Letter>, ahash::RandomState>>);

impl Couriers {
    /// Stops the courier of a channel whose node is gone.
    pub fn dismiss(&self, channel: &str) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(channel);
    }
}

impl RedisBackplane {
    /// Publishes `payload` (one JSON node message) on `channel` in the next batch for it;
    /// returns how many nodes received it.
    pub(super) async fn post(&self, channel: &str, payload: Vec<u8>) -> Result<i64, Unavailable> {
        let (tx, rx) = oneshot::channel();
        self.hand_over(
            channel,
            Letter {
                payload,
                published: Some(tx),
            },
        )
        .await?;
        rx.await
            .unwrap_or_else(|_| Err(Unavailable("the publish was abandoned".to_owned())))
    }

    /// Like [`RedisBackplane::post`], without waiting for the publish.
    pub(super) async fn post_and_forget(&self, channel: &str, payload: Vec<u8>) {
        let letter = Letter {
            payload,
            published: None,
        };
        if let Err(err) = self.hand_over(channel, letter).await {
            tracing::debug!(%err, "cannot publish to another node");
        }
    }

    async fn hand_over(&self, channel: &str, letter: Letter) -> Result<(), Unavailable> {
        let courier = {
            let mut couriers = self
                .0
                .couriers
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match couriers.get(channel) {
                Some(courier) if !courier.is_closed() => courier.clone(),
                _ => {
                    let (tx, rx) = mpsc::channel(QUEUE);
                    self.spawn(self.clone().carry(channel.to_owned(), rx));
                    couriers.insert(channel.to_owned(), tx.clone());
                    tx
                }
            }
        };
        courier
            .send(letter)
            .await
            .map_err(|_| Unavailable("the server is stopping".to_owned()))
    }

    /// One channel's courier: publishes what it is handed, in order, in batches.
    async fn carry(self, channel: String, mut letters: mpsc::Receiver<Letter>) {
        let mut batch = Vec::with_capacity(MOST_PER_BATCH);
        while letters.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
            let published = self.publish_raw(&channel, &joined(&mut batch)).await;
            for letter in batch.drain(..) {
                if let Some(waiting) = letter.published {
                    let _ = waiting.send(published.clone());
                }
            }
        }
    }
}

/// The payload of one publish: a message as it is, several as a JSON array.
fn joined(batch: &mut [Letter]) -> Vec<u8> {
    if let [one] = batch {
        return std::mem::take(&mut one.payload);
    }
    let length = batch.iter().map(|letter| letter.payload.len() + 1).sum::<usize>() + 1;
    let mut payload = Vec::with_capacity(length);
    payload.push(b'[');
    for (i, letter) in batch.iter().enumerate() {
        if i > 0 {
            payload.push(b',');
        }
        payload.extend_from_slice(&letter.payload);
    }
    payload.push(b']');
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(payload: &str) -> Letter {
        Letter {
            payload: payload.as_bytes().to_vec(),
            published: None,
        }
    }

    #[test]
    fn one_message_goes_as_it_is_and_several_as_an_array() {
        assert_eq!(joined(&mut [letter(r#"{"k":"a"}"#)]), br#"{"k":"a"}"#);
        assert_eq!(
            joined(&mut [letter(r#"{"k":"a"}"#), letter(r#"{"k":"b"}"#)]),
            br#"[{"k":"a"},{"k":"b"}]"#
        );
    }
}
