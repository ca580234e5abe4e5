//! A binary of its own: it measures the process's peak resident set, which no other test may move.
//!
//! Load: 10,000 queries with 256 in flight against the test deployment on a multi-threaded runtime, with no
//! error, every answer the right one, and bounded memory on both sides.
//!
//! Run with `--nocapture` to see the numbers.

use std::time::Instant;

use convex_fetch_testing::{Ctx, TestDeployment};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::task::JoinSet;

const CALLS: usize = 10_000;
const IN_FLIGHT: usize = 256;
/// What the deployment remembers of the calls: far fewer than are made.
const RECORDED: usize = 500;
/// The bound on the growth of the peak RSS over the whole run: measured at about 24 MiB (debug build, two
/// worker threads), with room for allocator and scheduling variation.
const MAX_PEAK_GROWTH_KIB: u64 = 64 * 1024;

#[derive(Deserialize)]
struct GetArgs {
    id: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Post {
    id: u32,
    title: String,
    tags: Vec<String>,
}

/// A field of `/proc/self/status` in KiB (`VmHWM` is the peak resident set size), on Linux.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_queries_with_256_in_flight() {
    let peak_before = proc_status_kib("VmHWM:");
    let deployment = TestDeployment::builder()
        .query("posts:get", |_ctx: Ctx, args: GetArgs| async move {
            Ok(Post {
                id: args.id,
                title: format!("Post {}", args.id),
                tags: vec!["load".to_owned(), "test".to_owned()],
            })
        })
        .max_recorded_calls(RECORDED)
        .start()
        .await;
    let client = deployment.client();

    let started = Instant::now();
    let mut in_flight = JoinSet::new();
    let mut errors = Vec::new();
    let mut answered = 0usize;
    let mut settle = |joined: Result<Result<(), String>, tokio::task::JoinError>| match joined {
        Ok(Ok(())) => answered += 1,
        Ok(Err(error)) => errors.push(error),
        Err(join) => errors.push(format!("the task failed: {join}")),
    };
    for id in 0..CALLS as u32 {
        if in_flight.len() >= IN_FLIGHT {
            settle(in_flight.join_next().await.unwrap());
        }
        let client = client.clone();
        in_flight.spawn(async move {
            let post: Post = client
                .query("posts:get", json!({ "id": id }))
                .await
                .map_err(|e| e.to_string())?;
            if post.id != id || post.title != format!("Post {id}") {
                return Err(format!("call {id} got the answer {post:?}"));
            }
            Ok(())
        });
    }
    while let Some(joined) = in_flight.join_next().await {
        settle(joined);
    }
    let elapsed = started.elapsed();

    assert!(
        errors.is_empty(),
        "{} errors, the first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(answered, CALLS);
    assert_eq!(deployment.executions("posts:get"), CALLS, "nothing retried");
    // The deployment's record is bounded: it keeps the latest calls and counts the rest.
    let recorded = deployment.calls();
    assert_eq!(recorded.len(), RECORDED);
    assert_eq!(deployment.dropped_calls(), (CALLS - RECORDED) as u64);

    let peak_after = proc_status_kib("VmHWM:");
    let rss_after = proc_status_kib("VmRSS:");
    eprintln!(
        "load: {CALLS} queries, {IN_FLIGHT} in flight, {elapsed:.2?} ({:.0} calls/s); \
         peak RSS {peak_before:?} -> {peak_after:?} KiB, RSS now {rss_after:?} KiB",
        CALLS as f64 / elapsed.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (peak_before, peak_after) {
        assert!(
            after.saturating_sub(before) < MAX_PEAK_GROWTH_KIB,
            "the peak RSS grew from {before} KiB to {after} KiB"
        );
    } else {
        eprintln!("load: memory check skipped: /proc/self/status exists on Linux only");
    }
}
