//! What a contender's child process shares with the other contender's: the figures, the documents and
//! their generations, the plain HTTP mutation and the latency loop, the RSS reading and the child's own
//! run. Compiled into both the benchmark (convex-fetch's child) and `bench/versus-official` (the official
//! client's child, a crate of its own so that its dependencies' features never reach convex-fetch's build):
//! it may use only crates both have (serde, serde_json, reqwest, tokio).

use serde::Deserialize;
use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};

/// One document of `items:list`, as an application would declare it (decoded in full, read in part).
#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
pub struct Doc {
    pub id: f64,
    pub title: String,
    pub tags: Vec<String>,
    pub generation: f64,
}

/// A figure a child measures: `first N`, `latency N`, `latency-list N`, `recovery N`.
#[derive(Debug, Clone, Copy)]
pub enum Figure {
    /// Time until N subscriptions (distinct args) have a first value, and the RSS each adds.
    First(usize),
    /// Mutation-to-update latency at N subscribers of one query whose value is a number.
    Latency(usize),
    /// The same with a query whose value is a list of documents, decoded as `Vec<Doc>`.
    LatencyList(usize),
    /// The same list decoded as `Arc<Vec<Doc>>` (serde's `rc`): convex-fetch decodes a result once per
    /// type and clones it for each subscriber, here a reference count. The official client decodes as
    /// `latency-list` does.
    LatencyArc(usize),
    /// Time until N subscriptions have a new value after the socket drops.
    Recovery(usize),
}

impl Figure {
    pub fn parse(name: &str, n: &str) -> Option<Figure> {
        let n = n.parse().ok()?;
        match name {
            "first" => Some(Figure::First(n)),
            "latency" => Some(Figure::Latency(n)),
            "latency-list" => Some(Figure::LatencyList(n)),
            "latency-arc" => Some(Figure::LatencyArc(n)),
            "recovery" => Some(Figure::Recovery(n)),
            _ => None,
        }
    }
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A contender's child: `URL FIGURE N` (what follows `--client NAME`). Runs `measure` on a multi-thread
/// runtime, prints its sample as one JSON line (or `{"error": …}`) and exits.
pub fn run<M, F>(args: &[String], measure: M)
where
    M: FnOnce(String, Figure) -> F,
    F: Future<Output = serde_json::Value>,
{
    let parsed = match args {
        [url, figure, n, ..] => Figure::parse(figure, n).map(|f| (url.clone(), f)),
        _ => None,
    };
    let Some((url, figure)) = parsed else {
        println!("{}", json!({ "error": format!("bad arguments {args:?}") }));
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(300), measure(url, figure)).await
    });
    match result {
        Ok(sample) => println!("{sample}"),
        Err(_) => println!("{}", json!({ "error": "timed out" })),
    }
    // The official client's worker may outlive its handles: end here rather than wait on it.
    std::process::exit(0);
}

/// The resident set of this process, in bytes.
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Runs a mutation over HTTP with a plain request, the same for both contenders.
pub async fn http_mutation(http: &reqwest::Client, url: &str, path: &str) {
    let body = json!({ "path": path, "args": {}, "format": "json" }).to_string();
    let bytes = http
        .post(format!("{url}/api/mutation"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the deployment answers")
        .bytes()
        .await
        .expect("its body");
    let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON answer");
    assert_eq!(answer["status"], "success", "{path}: {answer}");
}

/// The generation a value shows: `items:get` is `generation × 1e6 + i`; `items:list` carries it.
pub trait Generation {
    fn generation(&self) -> u64;
}

impl Generation for f64 {
    fn generation(&self) -> u64 {
        (*self / 1e6) as u64
    }
}

impl Generation for Vec<Doc> {
    fn generation(&self) -> u64 {
        self.as_slice().generation()
    }
}

impl Generation for std::sync::Arc<Vec<Doc>> {
    fn generation(&self) -> u64 {
        self.as_slice().generation()
    }
}

impl Generation for [Doc] {
    fn generation(&self) -> u64 {
        self.first().map_or(0, |d| d.generation as u64)
    }
}

/// Times `mutations` mutations each seen by `n` subscribers: every subscriber sends `(generation, when)` on
/// `seen` for each item it yields.
pub async fn latencies(
    http: &reqwest::Client,
    url: &str,
    n: usize,
    mut seen: tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)>,
) -> serde_json::Value {
    let mutations = env_usize("LIVE_MUTATIONS", 20);
    let mut generation = 0;
    let mut ready = 0;
    while ready < n {
        let (g, _) = seen.recv().await.expect("subscribers");
        generation = generation.max(g);
        ready += 1;
    }
    let mut all = Vec::with_capacity(n * mutations);
    let mut last = Vec::with_capacity(mutations);
    for _ in 0..mutations {
        generation += 1;
        let started = Instant::now();
        http_mutation(http, url, "items:bump").await;
        let mut got = 0;
        let mut slowest = 0.0f64;
        while got < n {
            let (g, at) = seen.recv().await.expect("subscribers");
            if g >= generation {
                let ms = at.duration_since(started).as_secs_f64() * 1e3;
                all.push(ms);
                slowest = slowest.max(ms);
                got += 1;
            }
        }
        last.push(slowest);
    }
    json!({ "latency_ms": all, "last_ms": last })
}
