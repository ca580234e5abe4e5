//! Heap allocations per call, counted by a counting global allocator: the typed call against the careful
//! hand-written one, for the one- and 20-document answers. The server runs in this process too, so each count
//! includes its share; the difference between the two lines is the client's.

// A `GlobalAlloc` is an unsafe trait: this binary alone in the workspace needs unsafe code.
#![allow(unsafe_code)]

use convex_fetch_bench::{
    HandClient, hand_typed_get, hand_typed_list, serve_fixed, success_body, success_body_one,
    typed_call, typed_get,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as for `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CALLS: u64 = 1_000;

/// Allocations and bytes per call of `call`, after a warm-up that opens the connection.
async fn count<F: std::future::Future>(mut call: impl FnMut() -> F) -> (f64, f64) {
    for _ in 0..20 {
        call().await;
    }
    let (a, b) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    for _ in 0..CALLS {
        call().await;
    }
    let a = ALLOCATIONS.load(Ordering::Relaxed) - a;
    let b = BYTES.load(Ordering::Relaxed) - b;
    (a as f64 / CALLS as f64, b as f64 / CALLS as f64)
}

fn main() {
    // One thread: nothing else allocates between the counts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        for docs in [1, 20] {
            let body = if docs == 1 {
                success_body_one()
            } else {
                success_body(docs)
            };
            let url = format!("http://{}", serve_fixed(body).await);
            let client = convex::Client::new(&url).expect("a loopback URL is valid");
            let hand = HandClient::new(&url);
            let (hand_counts, convex_counts) = if docs == 1 {
                (
                    count(|| hand_typed_get(&hand)).await,
                    count(|| typed_get(&client)).await,
                )
            } else {
                (
                    count(|| hand_typed_list(&hand)).await,
                    count(|| typed_call(&client)).await,
                )
            };
            for (who, (allocations, bytes)) in
                [("reqwest+typed", hand_counts), ("convex-fetch", convex_counts)]
            {
                println!(
                    "{docs:>2} document(s), {who:<14} {allocations:>6.1} allocations, {bytes:>8.0} bytes a call (server included)"
                );
            }
        }
    });
}
