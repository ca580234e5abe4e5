//! Per-call cost: a typed call (encode args, POST, decode a result with `$integer` fields into the user's
//! struct) against the call a user would write by hand with reqwest and `serde_json::Value`, on the same
//! local server in the same run, sequential and with 64 calls in flight.

use convex_fetch_bench::{
    compare, full_run, hand_written_call, report, serve_fixed, success_body, typed_call,
};

const IN_FLIGHT: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let addr = runtime.block_on(serve_fixed(success_body(20)));
    let url = format!("http://{addr}");
    let client = convex::Client::new(&url).expect("a loopback URL is valid");
    let http = reqwest::Client::new();
    let (rounds, iterations) = if full_run() { (15, 200) } else { (1, 2) };

    let (b, c) = compare(
        rounds,
        iterations,
        || {
            runtime.block_on(hand_written_call(&http, &url));
        },
        || {
            runtime.block_on(typed_call(&client));
        },
    );
    report("call, sequential (20 posts)", "reqwest+Value", b, c);

    let batch_rounds = if full_run() { rounds } else { 1 };
    let batch_iterations = if full_run() { 20 } else { 1 };
    let (b, c) = compare(
        batch_rounds,
        batch_iterations,
        || {
            runtime.block_on(async {
                let calls = (0..IN_FLIGHT).map(|_| {
                    let (http, url) = (http.clone(), url.clone());
                    async move { hand_written_call(&http, &url).await }
                });
                join_all(calls).await;
            })
        },
        || {
            runtime.block_on(async {
                let calls = (0..IN_FLIGHT).map(|_| {
                    let client = client.clone();
                    async move { typed_call(&client).await }
                });
                join_all(calls).await;
            })
        },
    );
    report("call, 64 in flight (per batch)", "reqwest+Value", b, c);
}

/// Drives all futures to completion on the current task, concurrently.
async fn join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>)
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
