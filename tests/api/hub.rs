//! The chat hub (`/ws`): every message to everyone, the sender included, in one order.

use futures_util::{SinkExt, StreamExt};
use pairlink::session::Limits;
use tokio_tungstenite::tungstenite::Message;

use crate::deployment::{BrokerKind, Deployment, Options};
use crate::helpers::*;
use crate::on_both_brokers;

on_both_brokers!(
    text_and_binary_reach_every_client_unchanged,
    all_clients_see_one_order,
    a_client_that_stops_reading_never_stalls_the_others,
);

/// A client of the hub on node `node`.
async fn hub_client(app: &Deployment, node: usize) -> Ws {
    connect(&app.url(node, "/ws")).await.expect("joins the hub")
}

async fn text_and_binary_reach_every_client_unchanged(broker: BrokerKind) {
    let app = Deployment::start(broker).await;
    let mut a = hub_client(&app, 0).await;
    let mut b = hub_client(&app, 1).await;
    a.send(Message::text("héllo {not json}")).await.unwrap();
    b.send(Message::binary(vec![0u8, 255, 7])).await.unwrap();
    for ws in [&mut a, &mut b] {
        let mut got = vec![next(ws).await, next(ws).await];
        got.sort_by_key(|m| m.is_binary());
        assert_eq!(
            got,
            [Message::text("héllo {not json}"), Message::binary(vec![0u8, 255, 7])]
        );
    }
}

async fn all_clients_see_one_order(broker: BrokerKind) {
    const CLIENTS: usize = 6;
    const EACH: usize = 20;
    let app = Deployment::start(broker).await;
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        clients.push(hub_client(&app, c).await);
    }
    let tasks = clients.into_iter().enumerate().map(|(c, mut ws)| {
        tokio::spawn(async move {
            for i in 0..EACH {
                ws.send(Message::text(format!("{c}:{i}"))).await.unwrap();
            }
            let mut seen = Vec::new();
            while seen.len() < CLIENTS * EACH {
                seen.push(next_text(&mut ws).await);
            }
            seen
        })
    });
    let seen: Vec<Vec<String>> = futures_util::future::try_join_all(tasks).await.unwrap();
    for order in &seen {
        assert_eq!(order, &seen[0], "one order for everyone");
    }
    for c in 0..CLIENTS {
        let own: Vec<String> = seen[0]
            .iter()
            .filter(|m| m.starts_with(&format!("{c}:")))
            .cloned()
            .collect();
        assert_eq!(own, (0..EACH).map(|i| format!("{c}:{i}")).collect::<Vec<_>>());
    }
}

async fn a_client_that_stops_reading_never_stalls_the_others(broker: BrokerKind) {
    let limits = Limits {
        queue_capacity: 4,
        write_timeout: std::time::Duration::from_secs(1),
        ..Limits::default()
    };
    let app = Deployment::with(broker, Options::new().limits(limits)).await;
    // On a cluster the stalled client shares the reader's node, which must keep serving
    // the reader.
    let mut talker = hub_client(&app, 0).await;
    let mut reader = hub_client(&app, 1).await;
    let mut stalled = hub_client(&app, 1).await; // never polled until the end
    let payload = "x".repeat(32 * 1024);
    const MESSAGES: usize = 400; // 12.8 MB: more than the stalled socket's buffers hold
    for i in 0..MESSAGES {
        talker.send(Message::text(format!("{i}{payload}"))).await.unwrap();
        for ws in [&mut talker, &mut reader] {
            assert!(next_text(ws).await.starts_with(&i.to_string()));
        }
    }
    // The stalled client was cut off: it gets some of the messages, then the connection ends.
    let mut received = 0;
    let ended = loop {
        match tokio::time::timeout(PATIENCE, stalled.next())
            .await
            .expect("the stalled client is cut off")
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert!(received < MESSAGES, "the stalled client got everything ({received})");
    assert!(matches!(ended, None | Some(1013)), "ended with {ended:?}");
}
