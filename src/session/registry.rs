//! The live connections of a server, and the one timer that keeps them all alive.
//!
//! A timer per connection costs memory whether or not it fires: each idle connection
//! held a tokio sleep (its wheel entry and its future) for its ping and idle deadlines,
//! and a shutdown future. Here one task ticks for every connection instead: on each tick
//! it asks the connections that are due for a ping to send one (through their outbox,
//! so the connection's task stays the only writer of its socket), closes with 4002 those
//! that sent nothing for `--idle-timeout`, and at shutdown asks every connection to
//! flush and close with 1001.
//!
//! A tick comes every quarter of the shorter of the two intervals, at most every second.
//! Deadlines are counted in ticks of the clock: a ping may come up to one tick early or
//! late, and an idle close up to two ticks late but never early, as a client counts as
//! heard from the tick after the one in which it was seen to speak. An entry costs 16
//! bytes (the outbox and two tick counts) in a list whose free places are reused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::close_frame;
use super::outbox::Outbox;
use crate::protocol::close;

/// The longest time between two ticks.
const MAX_TICK: Duration = Duration::from_secs(1);

/// Every live connection of one server, with its keepalive deadlines.
pub(super) struct Registry {
    tick: Duration,
    /// Tick 0; ticks are counted from the clock, so late ticks do not delay deadlines.
    start: Instant,
    /// The intervals in ticks, rounded up.
    ping_ticks: u32,
    idle_ticks: u32,
    state: Mutex<State>,
    /// Whether the ticking task runs (it starts with the first connection).
    ticking: AtomicBool,
}

struct State {
    /// The connections, by place; `None` where one has ended.
    live: Vec<Option<Entry>>,
    /// Places in `live` that are free again.
    free: Vec<u32>,
    /// Set at shutdown: connections registering later are closed at once.
    closing: bool,
}

struct Entry {
    outbox: Outbox,
    /// The tick at which to ping next.
    next_ping: u32,
    /// The first tick after the client last spoke.
    last_heard: u32,
}

/// A connection's place in the registry; dropping it removes the connection.
pub(super) struct Registered {
    registry: Arc<Registry>,
    place: u32,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut state = self.registry.lock();
        state.live[self.place as usize] = None;
        state.free.push(self.place);
    }
}

impl Registry {
    pub(super) fn new(ping_interval: Duration, idle_timeout: Duration) -> Self {
        let tick = (ping_interval.min(idle_timeout) / 4).clamp(Duration::from_millis(1), MAX_TICK);
        let in_ticks =
            |interval: Duration| u32::try_from(interval.as_nanos().div_ceil(tick.as_nanos())).unwrap_or(u32::MAX);
        Self {
            tick,
            start: Instant::now(),
            ping_ticks: in_ticks(ping_interval),
            idle_ticks: in_ticks(idle_timeout),
            state: Mutex::new(State {
                live: Vec::new(),
                free: Vec::new(),
                closing: false,
            }),
            ticking: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking holder leaves a map of handles behind, still consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a connection reached through `outbox`; the first call starts the ticking
    /// task, which ends when `shutdown` is cancelled or the registry is gone. (The
    /// server's shutdown closes the connections through [`Registry::close_all`].)
    pub(super) fn register(self: &Arc<Self>, outbox: Outbox, shutdown: &CancellationToken) -> Registered {
        let now = self.ticks_at(Instant::now());
        let place = {
            let mut state = self.lock();
            if state.closing {
                outbox.close(close_frame(close::GOING_AWAY));
            }
            let entry = Entry {
                outbox,
                next_ping: now.saturating_add(self.ping_ticks),
                // Counted from the coming tick, so that silence never closes early.
                last_heard: now.saturating_add(1),
            };
            match state.free.pop() {
                Some(place) => {
                    state.live[place as usize] = Some(entry);
                    place
                }
                None => {
                    state.live.push(Some(entry));
                    u32::try_from(state.live.len() - 1).expect("fewer than 2^32 connections")
                }
            }
        };
        if !self.ticking.swap(true, Ordering::AcqRel) {
            tokio::spawn(ticking(Arc::downgrade(self), self.tick, shutdown.clone()));
        }
        Registered {
            registry: self.clone(),
            place,
        }
    }

    /// The tick `at` falls in.
    fn ticks_at(&self, at: Instant) -> u32 {
        let ticks = at.saturating_duration_since(self.start).as_nanos() / self.tick.as_nanos();
        u32::try_from(ticks).unwrap_or(u32::MAX)
    }

    /// Pings the connections that are due and closes the silent ones.
    fn on_tick(&self, at: Instant) {
        let now = self.ticks_at(at);
        let mut state = self.lock();
        for entry in state.live.iter_mut().flatten() {
            if entry.outbox.take_heard() {
                // It spoke before now, perhaps late in this tick: counted from the next.
                entry.last_heard = now.saturating_add(1);
            }
            if now >= entry.last_heard.saturating_add(self.idle_ticks) {
                entry.outbox.fail(close_frame(close::IDLE_TIMEOUT));
            } else if now >= entry.next_ping {
                entry.next_ping = now.saturating_add(self.ping_ticks);
                entry.outbox.ping();
            }
        }
    }

    /// Asks every connection, and any that registers later, to flush what is queued
    /// for it and close with 1001.
    pub(super) fn close_all(&self) {
        let mut state = self.lock();
        state.closing = true;
        for entry in state.live.iter().flatten() {
            entry.outbox.close(close_frame(close::GOING_AWAY));
        }
    }
}

async fn ticking(registry: Weak<Registry>, period: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => match registry.upgrade() {
                Some(registry) => registry.on_tick(Instant::now()),
                None => return,
            },
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::outbox::{Outgoing, outbox};

    #[tokio::test(start_paused = true)]
    async fn pings_on_schedule_and_closes_a_silent_connection() {
        let registry = Arc::new(Registry::new(Duration::from_secs(20), Duration::from_secs(60)));
        let shutdown = CancellationToken::new();
        let (out, mut inbox) = outbox(4);
        let _registered = registry.register(out, &shutdown);
        let start = Instant::now();

        assert!(matches!(inbox.next().await, Outgoing::Ping));
        assert_eq!(start.elapsed(), Duration::from_secs(20));
        // The client answers at 30 s: the idle deadline moves to 90 s (counted from the tick).
        tokio::time::advance(Duration::from_secs(10)).await;
        inbox.heard();
        for at in [40, 60, 80] {
            assert!(matches!(inbox.next().await, Outgoing::Ping));
            assert_eq!(start.elapsed(), Duration::from_secs(at));
        }
        assert!(
            matches!(inbox.next().await, Outgoing::Fail(frame) if u16::from(frame.code) == close::IDLE_TIMEOUT.code)
        );
        let closed = start.elapsed();
        assert!(
            (Duration::from_secs(90)..=Duration::from_secs(92)).contains(&closed),
            "within two ticks after 90 s: {closed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_timeout_shorter_than_the_ping_interval_still_applies() {
        let registry = Arc::new(Registry::new(Duration::from_secs(20), Duration::from_secs(2)));
        let shutdown = CancellationToken::new();
        let (out, mut inbox) = outbox(4);
        let _registered = registry.register(out, &shutdown);
        let start = Instant::now();
        assert!(
            matches!(inbox.next().await, Outgoing::Fail(frame) if u16::from(frame.code) == close::IDLE_TIMEOUT.code)
        );
        let closed = start.elapsed();
        // Ticks of 0.5 s; silence counts from the first tick after the connection came.
        assert_eq!(closed, Duration::from_millis(2500));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_closes_every_connection_and_later_ones() {
        let registry = Arc::new(Registry::new(Duration::from_secs(20), Duration::from_secs(60)));
        let shutdown = CancellationToken::new();
        let (out, mut inbox) = outbox(4);
        let _registered = registry.register(out.clone(), &shutdown);
        out.push(tungstenite::Message::Text("queued".into())).unwrap();
        // What `Sessions::close_all` does at shutdown.
        shutdown.cancel();
        registry.close_all();
        assert!(
            matches!(inbox.next().await, Outgoing::Message(..)),
            "what was queued first"
        );
        assert!(matches!(inbox.next().await, Outgoing::Close(frame) if u16::from(frame.code) == 1001));

        let (late, mut late_inbox) = outbox(4);
        let _late = registry.register(late, &shutdown);
        assert!(matches!(late_inbox.next().await, Outgoing::Close(frame) if u16::from(frame.code) == 1001));
    }

    #[tokio::test(start_paused = true)]
    async fn an_ended_connection_leaves_the_registry() {
        let registry = Arc::new(Registry::new(Duration::from_secs(20), Duration::from_secs(60)));
        let shutdown = CancellationToken::new();
        let (out, _inbox) = outbox(4);
        let registered = registry.register(out, &shutdown);
        assert_eq!(registry.lock().live.iter().flatten().count(), 1);
        drop(registered);
        assert_eq!(registry.lock().live.iter().flatten().count(), 0);
        let (again, _inbox) = outbox(4);
        let _registered = registry.register(again, &shutdown);
        assert_eq!(registry.lock().live.len(), 1, "the free place is reused");
    }
}
