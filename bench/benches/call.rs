//! Per-call cost: a typed call (encode args, POST, decode a result with `$integer` fields into the user's
//! struct) against the calls a user would write by hand with reqwest, on the same local server in the same run,
//! sequential and with 64 calls in flight, for a one-document answer (`posts:get`) and a 20-document one
//! (`posts:list`).
//!
//! The main baseline is the careful hand-written call (`hand_typed_call`: typed args, static headers, the
//! answer's bytes decoded with `serde_json::from_slice` straight into typed structs); the quick one through
//! `serde_json::Value` is kept on the 20-document answer for comparison with earlier figures.

use convex_fetch_bench::{
    HandClient, compare_all, full_run, hand_typed_get, hand_typed_list, hand_written_call,
    serve_fixed, success_body, success_body_one, typed_call, typed_get,
};
use std::future::Future;

const IN_FLIGHT: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (rounds, iterations, batches) = if full_run() { (21, 200, 20) } else { (1, 2, 1) };

    for docs in [1, 20] {
        let body = if docs == 1 {
            success_body_one()
        } else {
            success_body(docs)
        };
        let url = format!("http://{}", runtime.block_on(serve_fixed(body)));
        let client = convex::Client::new(&url).expect("a loopback URL is valid");
        let hand = HandClient::new(&url);
        let timed = HandClient::with_timeout(&url);
        let http = reqwest::Client::new();

        // Sequential: one call at a time.
        let one_hand = || {
            let hand = hand.clone();
            async move {
                if docs == 1 {
                    drop(hand_typed_get(&hand).await);
                } else {
                    drop(hand_typed_list(&hand).await);
                }
            }
        };
        let one_timed = || {
            let timed = timed.clone();
            async move {
                if docs == 1 {
                    drop(hand_typed_get(&timed).await);
                } else {
                    drop(hand_typed_list(&timed).await);
                }
            }
        };
        let one_convex = || {
            let client = client.clone();
            async move {
                if docs == 1 {
                    drop(typed_get(&client).await);
                } else {
                    drop(typed_call(&client).await);
                }
            }
        };
        let one_value = || {
            let (http, url) = (http.clone(), url.clone());
            async move {
                drop(hand_written_call(&http, &url).await);
            }
        };
        let mut hand_seq = || runtime.block_on(one_hand());
        let mut timed_seq = || runtime.block_on(one_timed());
        let mut convex_seq = || runtime.block_on(one_convex());
        let mut value_seq = || runtime.block_on(one_value());
        let mut hand_batch = || runtime.block_on(join_all((0..IN_FLIGHT).map(|_| one_hand())));
        let mut timed_batch = || runtime.block_on(join_all((0..IN_FLIGHT).map(|_| one_timed())));
        let mut convex_batch = || runtime.block_on(join_all((0..IN_FLIGHT).map(|_| one_convex())));
        let mut value_batch = || runtime.block_on(join_all((0..IN_FLIGHT).map(|_| one_value())));

        let label = if docs == 1 { "1 post" } else { "20 posts" };
        // The quick `Value` call is measured on the 20-post answer only, as in earlier figures.
        let t = if docs == 1 {
            compare_all(
                rounds,
                iterations,
                &mut [&mut hand_seq, &mut timed_seq, &mut convex_seq],
            )
        } else {
            compare_all(
                rounds,
                iterations,
                &mut [
                    &mut hand_seq,
                    &mut timed_seq,
                    &mut convex_seq,
                    &mut value_seq,
                ],
            )
        };
        report_line(&format!("call, sequential ({label})"), &t);
        let t = if docs == 1 {
            compare_all(
                rounds,
                batches,
                &mut [&mut hand_batch, &mut timed_batch, &mut convex_batch],
            )
        } else {
            compare_all(
                rounds,
                batches,
                &mut [
                    &mut hand_batch,
                    &mut timed_batch,
                    &mut convex_batch,
                    &mut value_batch,
                ],
            )
        };
        report_line(&format!("call, 64 in flight ({label}, per batch)"), &t);
    }
}

/// One result line from the medians `[hand, timed, convex, value?]`: the speed ratios (> 1: convex-fetch is
/// faster) against the careful hand-written call (the target), the same with a deadline, and, where measured,
/// the quick call through `serde_json::Value`.
fn report_line(name: &str, t: &[f64]) {
    let convex = t[2];
    let value = t.get(3).map_or(String::new(), |v| {
        format!("   vs reqwest+Value: {:.2}x", v / convex)
    });
    println!(
        "{name:<40} convex-fetch {:>7.1} µs   vs reqwest+typed: {:.2}x ({:.1} µs)   vs reqwest+typed+timeout: {:.2}x{value}",
        convex / 1000.0,
        t[0] / convex,
        t[0] / 1000.0,
        t[1] / convex,
    );
}

/// Runs all futures concurrently, each as its own task, as a server runs the calls of concurrent requests.
async fn join_all<F: Future + Send + 'static>(futures: impl Iterator<Item = F>)
where
    F::Output: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for f in futures {
        set.spawn(f);
    }
    while let Some(done) = set.join_next().await {
        done.expect("a bench call does not panic");
    }
}
