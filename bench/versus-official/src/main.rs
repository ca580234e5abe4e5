//! The official Rust client's child for the live benchmark's `versus` run (`bench/benches/live/versus.rs`),
//! which builds this crate and runs it as `--client official URL FIGURE N`; it prints one JSON sample.

#[path = "../../benches/live/child.rs"]
mod child;

use child::{Doc, Figure, Generation, http_mutation, latencies, rss};
use convex::{ConvexClient, FunctionResult, Value};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "--client") else {
        eprintln!("usage: --client official URL FIGURE N");
        std::process::exit(2);
    };
    child::run(&args[at + 2..], |url, figure| async move {
        let http = reqwest::Client::new();
        let url = url.as_str();
        match figure {
            Figure::First(n) => first(url, n).await,
            Figure::Latency(n) => latency(url, &http, n, false).await,
            // The official client has one decoding: its `Value`, exported to JSON, into `Vec<Doc>`.
            Figure::LatencyList(n) | Figure::LatencyArc(n) => latency(url, &http, n, true).await,
            Figure::Recovery(n) => recovery(url, &http, n).await,
        }
    });
}

fn args(i: usize) -> BTreeMap<String, Value> {
    BTreeMap::from([("i".to_owned(), Value::Float64(i as f64))])
}

fn number(result: FunctionResult) -> f64 {
    match result {
        FunctionResult::Value(Value::Float64(f)) => f,
        other => panic!("not a number: {other:?}"),
    }
}

/// The generation of a result, decoded as an application would: exported to JSON, then into its type.
fn generation(result: FunctionResult, list: bool) -> u64 {
    match result {
        FunctionResult::Value(value) if list => {
            let docs: Vec<Doc> = serde_json::from_value(value.export()).expect("documents");
            docs.generation()
        }
        FunctionResult::Value(Value::Float64(f)) => f.generation(),
        other => panic!("not a value: {other:?}"),
    }
}

async fn subscribe_all(
    client: &mut ConvexClient,
    path: &str,
    n: usize,
    distinct: bool,
) -> Vec<convex::QuerySubscription> {
    let mut subscriptions = Vec::with_capacity(n);
    for i in 0..n {
        let args = args(if distinct { i } else { 0 });
        subscriptions.push(client.subscribe(path, args).await.expect("subscribed"));
    }
    subscriptions
}

async fn first(url: &str, n: usize) -> serde_json::Value {
    let before = rss();
    let started = Instant::now();
    let mut client = ConvexClient::new(url).await.expect("a client");
    let mut subscriptions = subscribe_all(&mut client, "items:get", n, true).await;
    let firsts = futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
    for first in firsts {
        number(first.expect("a first value"));
    }
    let elapsed = started.elapsed();
    let after = rss();
    json!({
        "first_ms": elapsed.as_secs_f64() * 1e3,
        "rss_per_sub": after.saturating_sub(before) as f64 / n as f64,
    })
}

async fn latency(url: &str, http: &reqwest::Client, n: usize, list: bool) -> serde_json::Value {
    let mut client = ConvexClient::new(url).await.expect("a client");
    let path = if list { "items:list" } else { "items:get" };
    let subscriptions = subscribe_all(&mut client, path, n, false).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for mut subscription in subscriptions {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(result) = subscription.next().await {
                if tx.send((generation(result, list), Instant::now())).is_err() {
                    break;
                }
            }
        });
    }
    let sample = latencies(http, url, n, rx).await;
    drop(client);
    sample
}

async fn recovery(url: &str, http: &reqwest::Client, n: usize) -> serde_json::Value {
    let mut client = ConvexClient::new(url).await.expect("a client");
    let mut subscriptions = subscribe_all(&mut client, "items:get", n, true).await;
    let firsts = futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
    let firsts: Vec<f64> = firsts
        .into_iter()
        .map(|first| number(first.expect("a first value")))
        .collect();
    let dropped = Instant::now();
    http_mutation(http, url, "bench:dropSockets").await;
    http_mutation(http, url, "items:bump").await;
    for (subscription, first) in subscriptions.iter_mut().zip(firsts) {
        loop {
            let value = number(subscription.next().await.expect("a value"));
            if value > first {
                break;
            }
        }
    }
    json!({ "recovery_ms": dropped.elapsed().as_secs_f64() * 1e3 })
}
