//! convex-fetch and the official Rust client (`convex` on crates.io) side by side, against the same test
//! deployment, each figure in its own child process so that the RSS measured is that client's alone, the
//! contenders alternating from round to round so that both see the same machine load.
//!
//! `cargo bench -q -p convex-fetch-bench --bench live -- versus [FIGURE]` runs it (FIGURE, a prefix: `first`,
//! `latency`, `latency-list`, `latency-arc`, `recovery`). Rounds of the 1,000-subscription figures: `LIVE_ROUNDS` (default 5); of the
//! 10,000-subscription ones: `LIVE_LARGE_ROUNDS` (default 1: the official client takes minutes to subscribe
//! 10,000 queries); mutations a latency sample: `LIVE_MUTATIONS` (default 20). `LIVE_BASELINE_EXE=<path of another build of
//! this benchmark>` adds that build's convex-fetch as a third contender (`before`), to compare two versions of
//! the runtime in one run.

use convex::Client;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whichever client runs a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    Ours,
    Official,
}

impl Contender {
    fn parse(name: &str) -> Option<Contender> {
        match name {
            "ours" => Some(Contender::Ours),
            "official" => Some(Contender::Official),
            _ => None,
        }
    }
}

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
enum Figure {
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
    fn parse(name: &str, n: &str) -> Option<Figure> {
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

    /// How many rounds measure it: fewer for the large ones.
    fn rounds(self, rounds: usize, large_rounds: usize) -> usize {
        match self {
            Figure::First(n)
            | Figure::Latency(n)
            | Figure::LatencyList(n)
            | Figure::LatencyArc(n)
            | Figure::Recovery(n) => {
                if n >= 10_000 {
                    large_rounds
                } else {
                    rounds
                }
            }
        }
    }

    fn args(self) -> [String; 2] {
        let (name, n) = match self {
            Figure::First(n) => ("first", n),
            Figure::Latency(n) => ("latency", n),
            Figure::LatencyList(n) => ("latency-list", n),
            Figure::LatencyArc(n) => ("latency-arc", n),
            Figure::Recovery(n) => ("recovery", n),
        };
        [name.to_owned(), n.to_string()]
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The orchestrator: runs every figure for each contender in alternating rounds and prints the ratios.
pub fn run(url: &str, figures_filter: Option<&str>) {
    let rounds = env_usize("LIVE_ROUNDS", 5);
    let large_rounds = env_usize("LIVE_LARGE_ROUNDS", 1);
    let this = std::env::current_exe().expect("this binary");
    let baseline = std::env::var_os("LIVE_BASELINE_EXE");
    let mut contenders: Vec<(&str, std::path::PathBuf, &str)> = vec![
        ("ours", this.clone(), "ours"),
        ("official", this.clone(), "official"),
    ];
    if let Some(before) = baseline {
        contenders.push(("before", before.into(), "ours"));
    }
    let all = [
        Figure::First(1_000),
        Figure::First(10_000),
        Figure::Latency(1_000),
        Figure::LatencyList(1_000),
        Figure::LatencyArc(1_000),
        Figure::Recovery(10_000),
    ];
    let figures: Vec<Figure> = all
        .into_iter()
        .filter(|f| figures_filter.is_none_or(|only| f.args()[0].starts_with(only)))
        .collect();
    println!(
        "live versus: {rounds} rounds ({large_rounds} of 10,000 subscriptions), contenders {:?}, load average {}",
        contenders.iter().map(|c| c.0).collect::<Vec<_>>(),
        load_average()
    );
    // results[figure][contender] = samples
    let mut results: Vec<Vec<Samples>> =
        vec![vec![Samples::default(); contenders.len()]; figures.len()];
    for round in 0..rounds.max(large_rounds) {
        for (f, figure) in figures.iter().enumerate() {
            if round >= figure.rounds(rounds, large_rounds) {
                continue;
            }
            // Alternate who goes first.
            let mut order: Vec<usize> = (0..contenders.len()).collect();
            order.rotate_left(round % contenders.len());
            for c in order {
                let (_, exe, client) = &contenders[c];
                let out = Command::new(exe)
                    .arg("--client")
                    .arg(client)
                    .arg(url)
                    .args(figure.args())
                    .output()
                    .expect("the client process");
                let stdout = String::from_utf8_lossy(&out.stdout);
                let line = stdout.lines().rev().find(|l| l.starts_with('{'));
                match line.and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
                    Some(sample) if sample.get("error").is_none() => results[f][c].add(&sample),
                    other => eprintln!(
                        "live versus: {} {:?} failed: {:?} {}",
                        contenders[c].0,
                        figure,
                        other,
                        String::from_utf8_lossy(&out.stderr)
                    ),
                }
            }
        }
    }
    println!("live versus: load average after {}", load_average());
    for (f, figure) in figures.iter().enumerate() {
        for (c, (name, ..)) in contenders.iter().enumerate() {
            println!("  {figure:?} {name}: {}", results[f][c].summary());
        }
        let ours = &results[f][0];
        for (c, (name, ..)) in contenders.iter().enumerate().skip(1) {
            println!(
                "  {figure:?} ratio ours / {name}: {}",
                ours.ratio(&results[f][c])
            );
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Every sample of one figure and contender.
#[derive(Debug, Clone, Default)]
struct Samples {
    /// Keyed by measure: `first_ms`, `rss_per_sub`, `recovery_ms`, `latency_ms` (one entry per update), and
    /// `last_ms` (per mutation, the latency of the last subscriber to see it).
    values: BTreeMap<String, Vec<f64>>,
}

impl Samples {
    fn add(&mut self, sample: &serde_json::Value) {
        let Some(object) = sample.as_object() else {
            return;
        };
        for (key, value) in object {
            let entry = self.values.entry(key.clone()).or_default();
            match value {
                serde_json::Value::Array(items) => {
                    entry.extend(items.iter().filter_map(|v| v.as_f64()))
                }
                other => entry.extend(other.as_f64()),
            }
        }
    }

    fn summary(&self) -> String {
        self.values
            .iter()
            .map(|(key, values)| {
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                format!(
                    "{key}: median {:.2} p90 {:.2} (n {})",
                    quantile(&sorted, 0.5),
                    quantile(&sorted, 0.9),
                    sorted.len()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn ratio(&self, other: &Samples) -> String {
        self.values
            .iter()
            .filter_map(|(key, values)| {
                let theirs = other.values.get(key)?;
                let (mut a, mut b) = (values.clone(), theirs.clone());
                a.sort_by(f64::total_cmp);
                b.sort_by(f64::total_cmp);
                Some(format!(
                    "{key}: median {:.2}x p90 {:.2}x",
                    quantile(&a, 0.5) / quantile(&b, 0.5),
                    quantile(&a, 0.9) / quantile(&b, 0.9)
                ))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// A client child: `--client ours|official URL FIGURE N`; prints one JSON line.
pub fn child(args: &[String]) {
    let parsed = match args {
        [contender, url, figure, n, ..] => Contender::parse(contender)
            .zip(Figure::parse(figure, n))
            .map(|(c, f)| (c, url.clone(), f)),
        _ => None,
    };
    let Some((contender, url, figure)) = parsed else {
        println!("{}", json!({ "error": format!("bad arguments {args:?}") }));
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(300), measure(contender, &url, figure)).await
    });
    match result {
        Ok(sample) => println!("{sample}"),
        Err(_) => println!("{}", json!({ "error": "timed out" })),
    }
    // The official client's worker may outlive its handles: end here rather than wait on it.
    std::process::exit(0);
}

async fn measure(contender: Contender, url: &str, figure: Figure) -> serde_json::Value {
    let http = reqwest::Client::new();
    match (contender, figure) {
        (Contender::Ours, Figure::First(n)) => ours::first(url, n).await,
        (Contender::Official, Figure::First(n)) => official::first(url, n).await,
        (Contender::Ours, Figure::Latency(n)) => ours::latency::<f64>(url, &http, n, false).await,
        (Contender::Official, Figure::Latency(n)) => official::latency(url, &http, n, false).await,
        (Contender::Ours, Figure::LatencyList(n)) => {
            ours::latency::<Vec<Doc>>(url, &http, n, true).await
        }
        (Contender::Ours, Figure::LatencyArc(n)) => {
            ours::latency::<std::sync::Arc<Vec<Doc>>>(url, &http, n, true).await
        }
        (Contender::Official, Figure::LatencyList(n) | Figure::LatencyArc(n)) => {
            official::latency(url, &http, n, true).await
        }
        (Contender::Ours, Figure::Recovery(n)) => ours::recovery(url, &http, n).await,
        (Contender::Official, Figure::Recovery(n)) => official::recovery(url, &http, n).await,
    }
}

/// Runs a mutation over HTTP with a plain request, the same for both contenders.
async fn http_mutation(http: &reqwest::Client, url: &str, path: &str) {
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
trait Generation {
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

/// The resident set of this process, in bytes.
fn rss() -> u64 {
    super::rss()
}

/// Times `mutations` mutations each seen by `n` subscribers: every subscriber sends `(generation, when)` on
/// `seen` for each item it yields.
async fn latencies(
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

mod ours {
    use super::*;
    use futures_util::StreamExt;
    use serde::de::DeserializeOwned;

    pub async fn first(url: &str, n: usize) -> serde_json::Value {
        let before = rss();
        let started = Instant::now();
        let client = Client::builder(url).build().expect("a loopback URL");
        let mut subscriptions: Vec<_> = (0..n)
            .map(|i| {
                client
                    .query::<_, f64>("items:get", json!({ "i": i }))
                    .subscribe()
            })
            .collect();
        let firsts =
            futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
        for first in firsts {
            first.expect("a first value").expect("a number");
        }
        let elapsed = started.elapsed();
        let after = rss();
        json!({
            "first_ms": elapsed.as_secs_f64() * 1e3,
            "rss_per_sub": after.saturating_sub(before) as f64 / n as f64,
        })
    }

    pub async fn latency<T>(
        url: &str,
        http: &reqwest::Client,
        n: usize,
        list: bool,
    ) -> serde_json::Value
    where
        T: DeserializeOwned + Clone + Generation + Send + Sync + 'static,
    {
        let client = Client::builder(url).build().expect("a loopback URL");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let path = if list { "items:list" } else { "items:get" };
        for _ in 0..n {
            let mut subscription = client.query::<_, T>(path, json!({ "i": 0 })).subscribe();
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(Ok(value)) = subscription.next().await {
                    if tx.send((value.generation(), Instant::now())).is_err() {
                        break;
                    }
                }
            });
        }
        latencies(http, url, n, rx).await
    }

    pub async fn recovery(url: &str, http: &reqwest::Client, n: usize) -> serde_json::Value {
        // The default `LiveSettings`: the backoff an application gets.
        let client = Client::builder(url).build().expect("a loopback URL");
        let mut subscriptions: Vec<_> = (0..n)
            .map(|i| {
                client
                    .query::<_, f64>("items:get", json!({ "i": i }))
                    .subscribe()
            })
            .collect();
        let firsts =
            futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
        let firsts: Vec<f64> = firsts
            .into_iter()
            .map(|first| first.expect("a first value").expect("a number"))
            .collect();
        let dropped = Instant::now();
        http_mutation(http, url, "bench:dropSockets").await;
        http_mutation(http, url, "items:bump").await;
        for (subscription, first) in subscriptions.iter_mut().zip(firsts) {
            loop {
                let value = subscription
                    .next()
                    .await
                    .expect("a value")
                    .expect("a number");
                if value > first {
                    break;
                }
            }
        }
        json!({ "recovery_ms": dropped.elapsed().as_secs_f64() * 1e3 })
    }
}

mod official {
    use super::*;
    use convex_official::{ConvexClient, FunctionResult, Value};
    use futures_util::StreamExt;

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
    ) -> Vec<convex_official::QuerySubscription> {
        let mut subscriptions = Vec::with_capacity(n);
        for i in 0..n {
            let args = args(if distinct { i } else { 0 });
            subscriptions.push(client.subscribe(path, args).await.expect("subscribed"));
        }
        subscriptions
    }

    pub async fn first(url: &str, n: usize) -> serde_json::Value {
        let before = rss();
        let started = Instant::now();
        let mut client = ConvexClient::new(url).await.expect("a client");
        let mut subscriptions = subscribe_all(&mut client, "items:get", n, true).await;
        let firsts =
            futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
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

    pub async fn latency(
        url: &str,
        http: &reqwest::Client,
        n: usize,
        list: bool,
    ) -> serde_json::Value {
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

    pub async fn recovery(url: &str, http: &reqwest::Client, n: usize) -> serde_json::Value {
        let mut client = ConvexClient::new(url).await.expect("a client");
        let mut subscriptions = subscribe_all(&mut client, "items:get", n, true).await;
        let firsts =
            futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
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
}
