//! Progress bars on stderr while a bench runs. They draw only on a terminal (indicatif
//! stays silent otherwise), and not at all when the caller asks for none (tests).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

const REFRESH: Duration = Duration::from_millis(250);

fn bar(enabled: bool, length: u64, template: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("the progress templates are valid")
            .progress_chars("=> "),
    );
    bar
}

/// A bar counting up to `length` things (pairs being opened).
pub fn counter(enabled: bool, length: u64, message: &'static str) -> ProgressBar {
    let bar = bar(
        enabled,
        length,
        "{msg:>14} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed})",
    );
    bar.set_message(message);
    bar
}

/// A bar over a span of time, in milliseconds.
pub fn timer(enabled: bool, span: Duration) -> ProgressBar {
    bar(enabled, span.as_millis() as u64, "[{bar:40}] {elapsed_precise} {msg}")
}

/// A bar over a bench's warm-up and measured window, counting what is done in the window.
pub struct Window {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Window {
    /// Starts the bar (hidden unless `enabled`): from `start`, through the warm-up until
    /// `measure_from`, then the window until `end`, showing `completed` `what` (round
    /// trips, messages) so far.
    pub fn start(
        enabled: bool,
        (start, measure_from, end): (Instant, Instant, Instant),
        completed: Arc<AtomicU64>,
        what: &'static str,
    ) -> Self {
        let bar = timer(enabled, end - start);
        let ticker = tokio::spawn(tick_count(bar.clone(), start, measure_from, completed, what));
        Self { bar, ticker }
    }

    pub fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

async fn tick_count(bar: ProgressBar, start: Instant, measure_from: Instant, completed: Arc<AtomicU64>, what: &str) {
    let mut ticks = tokio::time::interval(REFRESH);
    loop {
        ticks.tick().await;
        let now = Instant::now();
        bar.set_position((now - start).as_millis() as u64);
        if now < measure_from {
            bar.set_message("warming up");
        } else {
            let done = completed.load(Ordering::Relaxed);
            let rate = done as f64 / (now - measure_from).as_secs_f64().max(1e-3);
            bar.set_message(format!("{done} {what}, {rate:.0}/s"));
        }
    }
}

/// Moves `bar` along with the clock until the span is over.
pub async fn tick_time(bar: ProgressBar, start: Instant) {
    let mut ticks = tokio::time::interval(REFRESH);
    loop {
        ticks.tick().await;
        bar.set_position((Instant::now() - start).as_millis() as u64);
    }
}
