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

use super::child::{Doc, Figure, Generation, env_usize, http_mutation, latencies, rss};
use convex::Client;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// What the orchestrator asks of a figure.
impl Figure {
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

/// The orchestrator: runs every figure for each contender in alternating rounds and prints the ratios.
pub fn run(url: &str, figures_filter: Option<&str>) {
    let rounds = env_usize("LIVE_ROUNDS", 5);
    let large_rounds = env_usize("LIVE_LARGE_ROUNDS", 1);
    let this = std::env::current_exe().expect("this binary");
    let baseline = std::env::var_os("LIVE_BASELINE_EXE");
    let Some(official) = official_exe() else {
        return;
    };
    let mut contenders: Vec<(&str, PathBuf, &str)> =
        vec![("ours", this, "ours"), ("official", official, "official")];
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

/// convex-fetch's child (`--client ours URL FIGURE N`).
pub fn child(args: &[String]) {
    super::child::run(args, |url, figure| async move {
        let http = reqwest::Client::new();
        let url = url.as_str();
        match figure {
            Figure::First(n) => ours::first(url, n).await,
            Figure::Latency(n) => ours::latency::<f64>(url, &http, n, false).await,
            Figure::LatencyList(n) => ours::latency::<Vec<Doc>>(url, &http, n, true).await,
            Figure::LatencyArc(n) => {
                ours::latency::<std::sync::Arc<Vec<Doc>>>(url, &http, n, true).await
            }
            Figure::Recovery(n) => ours::recovery(url, &http, n).await,
        }
    });
}

/// The official client's child: `bench/versus-official`, a crate of its own (serde_json's `preserve_order`,
/// which the official client turns on, would otherwise reach convex-fetch in the same build and change what
/// is measured), built here in release mode into `versus-official` beside this benchmark's target folder.
fn official_exe() -> Option<PathBuf> {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| bench.join("../target"))
        .join("versus-official");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("live versus: building the official client's child (bench/versus-official)");
    let built = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(bench.join("versus-official/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status();
    match built {
        Ok(status) if status.success() => Some(target.join("release/convex-fetch-bench-official")),
        other => {
            eprintln!("live versus: the official client's child did not build: {other:?}");
            None
        }
    }
}

mod ours {
    use super::*;
    use futures_util::StreamExt;
    use serde::de::DeserializeOwned;

    pub async fn first(url: &str, n: usize) -> serde_json::Value {
        let before = rss();
        let started = Instant::now();
        let client = Client::builder(url).build().expect("a loopback URL");
        let _subscriptions = super::super::subscribe_distinct(&client, n).await;
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
        let (mut subscriptions, firsts) = super::super::subscribe_distinct(&client, n).await;
        let dropped = Instant::now();
        http_mutation(http, url, "bench:dropSockets").await;
        http_mutation(http, url, "items:bump").await;
        super::super::until_each_passes(&mut subscriptions, &firsts).await;
        json!({ "recovery_ms": dropped.elapsed().as_secs_f64() * 1e3 })
    }
}
