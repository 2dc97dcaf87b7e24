//! The heap each idle pair costs the server, counted by a global allocator: unlike RSS,
//! heap bytes do not depend on what else the machine does, so a budget can be asserted.
//! The server runs in this process; the pairs are opened by `pairlink bench idle` in a
//! child process, so that none of the client's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Stdio;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use pairlink::app::Application;
use pairlink::config::ServeConfig;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Counts the bytes the process holds on the heap.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            HELD.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes the server may hold for one idle pair (a display and its controller, each
/// with its socket, task, queue and registration): 3,544 measured in the test build once
/// each socket was read and written over its TCP stream directly, plus 10%.
const BUDGET_PER_PAIR: isize = 3_900;
/// Pairs opened: enough that per-pair costs dwarf one-off ones.
const PAIRS: usize = 1000;

/// Opens `PAIRS` idle pairs with `pairlink bench idle` and returns the server's heap
/// growth once they are all connected.
async fn heap_growth_for_idle_pairs(addr: std::net::SocketAddr) -> isize {
    let before = HELD.load(Ordering::Relaxed);
    let mut bench = tokio::process::Command::new(env!("CARGO_BIN_EXE_pairlink"))
        .args([
            "bench",
            "idle",
            "--url",
            &format!("ws://{addr}"),
            "--pairs",
            &PAIRS.to_string(),
        ])
        .args(["--hold", "60s"])
        .env("RUST_LOG", "pairlink=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pairlink bench starts");
    let mut lines = BufReader::new(bench.stderr.take().unwrap()).lines();
    let opened = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("all pairs opened") {
                return;
            }
        }
        panic!("the bench ended before opening its pairs");
    });
    opened.await.expect("the pairs open within two minutes");
    let growth = HELD.load(Ordering::Relaxed) - before;
    bench.kill().await.unwrap();
    growth
}

#[test]
fn an_idle_pair_costs_the_server_less_than_its_heap_budget() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("p.db").display());
    let app = server.block_on(async {
        let config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), database.parse().unwrap());
        Application::build(config).await.expect("the server builds")
    });
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server.spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Once first, so that one-off allocations (thread caches, the catalogue's first
    // draw, lazily built statics) are not counted against the pairs.
    client.block_on(heap_growth_for_idle_pairs(addr));
    std::thread::sleep(Duration::from_millis(500));
    let growth = client.block_on(heap_growth_for_idle_pairs(addr));
    let per_pair = growth / PAIRS as isize;
    println!(
        "server heap per idle pair: {per_pair} bytes ({} per connection), budget {BUDGET_PER_PAIR}",
        per_pair / 2
    );
    assert!(
        per_pair <= BUDGET_PER_PAIR,
        "an idle pair holds {per_pair} bytes of the server's heap, over the budget of {BUDGET_PER_PAIR}"
    );
    let _ = stop.send(());
    let _ = server.block_on(serving);
}
