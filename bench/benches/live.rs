//! Live queries against the test deployment's `/api/sync`: many subscriptions on one socket (memory per
//! subscription, time until all have a first value), updates delivered per second to the subscribers of one
//! query, and the time until every subscription is live again after the socket drops.
//!
//! `cargo bench -p convex-fetch-bench --bench live` runs the full sizes with the deployment in a child
//! process (this same binary, started with `--serve-live`), so that the RSS measured is the client's alone.
//! Without `--bench` (the smoke mode `cargo test --benches` runs) the sizes are small and the deployment runs
//! in-process.
//!
//! `-- versus` runs convex-fetch and the official Rust client side by side instead (see `live/versus.rs`).

#[path = "live/child.rs"]
mod child;
#[path = "live/versus.rs"]
mod versus;

use child::rss;
use convex::{Client, LiveSettings, Subscription};
use convex_fetch_testing::{Ctx, TestDeployment};
use futures_util::StreamExt;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What every query reads: bumped by `items:bump`.
#[derive(Debug, Default)]
struct Generation(u64);

/// The deployment of this process, for `bench:dropSockets`.
static DEPLOYMENT: OnceLock<Arc<TestDeployment>> = OnceLock::new();

/// How many documents `items:list` returns.
const LIST_LEN: usize = 50;

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .state(Generation::default())
        .query(
            "items:get",
            |ctx: Ctx, args: serde_json::Value| async move {
                let i = args["i"].as_f64().unwrap_or_default();
                Ok(ctx.state::<Generation>()?.0 as f64 * 1e6 + i)
            },
        )
        .query("items:list", |ctx: Ctx, _: serde_json::Value| async move {
            let generation = ctx.state::<Generation>()?.0;
            Ok((0..LIST_LEN)
                .map(|i| {
                    json!({
                        "id": i as f64,
                        "title": format!("Item number {i} of the list"),
                        "tags": ["alpha", "beta", "gamma"],
                        "generation": generation as f64,
                    })
                })
                .collect::<Vec<_>>())
        })
        // Drops every sync socket, as `Control::drop_sockets` does, for a client in another process.
        .mutation(
            "bench:dropSockets",
            |_: Ctx, _: serde_json::Value| async move {
                if let Some(deployment) = DEPLOYMENT.get() {
                    deployment.drop_sync_connections();
                }
                Ok(())
            },
        )
        .mutation("items:bump", |ctx: Ctx, _: serde_json::Value| async move {
            ctx.state::<Generation>()?.0 += 1;
            Ok(())
        })
        .start()
        .await
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--client") {
        return versus::child(&args[at + 2..]);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if std::env::args().any(|a| a == "--serve-live") {
        return runtime.block_on(serve());
    }
    let full = convex_fetch_bench::full_run();
    // `-- versus [FIGURE]`: the side-by-side run, against a deployment in a child process.
    if let Some(at) = args.iter().position(|a| a == "versus") {
        if !full {
            return;
        }
        let only = args.get(at + 1).filter(|a| !a.starts_with('-')).cloned();
        let (url, control) = spawn_deployment();
        versus::run(&url, only.as_deref());
        control.stop();
        return;
    }
    let (many, fan_out, updates) = if full {
        (10_000, 1_000, 200)
    } else {
        (100, 10, 5)
    };
    runtime.block_on(async {
        // In the full run the deployment lives in a child, whose commands (drop the sockets) go over stdin.
        let (url, mut control, _local) = if full {
            let (url, control) = spawn_deployment();
            (url, control, None)
        } else {
            let deployment = deployment().await;
            let url = deployment.url().to_owned();
            (url, Control::Local(Arc::new(deployment)), Some(()))
        };
        let client = Client::builder(&url)
            .live(
                // Short waits, so that the reconnect figure measures resubscribing, not the backoff.
                LiveSettings::default()
                    .initial_backoff(Duration::from_millis(10))
                    .max_backoff(Duration::from_millis(100)),
            )
            .build()
            .expect("a loopback URL");
        // `--bench recovery` runs only the recovery with the default settings.
        if !std::env::args().any(|a| a == "recovery") {
            many_subscriptions(&client, &mut control, many).await;
            fan_out_updates(&client, fan_out, updates).await;
        }
        for _ in 0..3 {
            recovery_with_defaults(&url, &mut control, many).await;
        }
        control.stop();
    });
}

/// Starts the deployment in a child process: its URL, and its control.
/// `n` subscriptions to `items:get`, each with its own args, and their first values: all polled at once, as
/// an application serving many at a time does.
async fn subscribe_distinct(client: &Client, n: usize) -> (Vec<Subscription<f64>>, Vec<f64>) {
    let mut subscriptions: Vec<_> = (0..n)
        .map(|i| {
            client
                .query::<_, f64>("items:get", json!({ "i": i }))
                .subscribe()
        })
        .collect();
    let firsts = futures_util::future::join_all(subscriptions.iter_mut().map(|s| s.next())).await;
    let firsts = firsts
        .into_iter()
        .map(|first| first.expect("a first value").expect("a number"))
        .collect();
    (subscriptions, firsts)
}

/// The time from dropping the socket until every subscription is live again: the generation every query
/// reads is bumped right after the drop, and a subscription is live once it yields the new value, which only
/// a resubscribed socket can bring.
async fn recovery(
    client: &Client,
    control: &mut Control,
    subscriptions: &mut [Subscription<f64>],
    firsts: &[f64],
) -> Duration {
    let dropped = Instant::now();
    control.drop_sockets();
    let _: () = client
        .mutation("items:bump", json!({}))
        .await
        .expect("the bump");
    until_each_passes(subscriptions, firsts).await;
    dropped.elapsed()
}

/// Until every subscription yields a value above its first: after the socket drops and the generation is
/// bumped, only a resubscribed socket brings it.
async fn until_each_passes(subscriptions: &mut [Subscription<f64>], firsts: &[f64]) {
    for (subscription, first) in subscriptions.iter_mut().zip(firsts) {
        loop {
            let value = subscription
                .next()
                .await
                .expect("a value")
                .expect("a number");
            if value > *first {
                break;
            }
        }
    }
}

fn spawn_deployment() -> (String, Control) {
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .arg("--serve-live")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the deployment process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its URL");
    (line.trim().to_owned(), Control::Child(child))
}

/// Where the deployment runs.
enum Control {
    Child(std::process::Child),
    Local(Arc<TestDeployment>),
}

impl Control {
    fn drop_sockets(&mut self) {
        match self {
            Control::Child(child) => {
                let stdin = child.stdin.as_mut().expect("its stdin");
                writeln!(stdin, "drop").expect("the deployment process reads commands");
                stdin.flush().expect("flushed");
            }
            Control::Local(deployment) => deployment.drop_sync_connections(),
        }
    }

    fn stop(self) {
        if let Control::Child(mut child) = self {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

/// The child: serves, prints its URL, drops every socket on each `drop` line, ends when stdin closes.
async fn serve() {
    let deployment = Arc::new(deployment().await);
    let _ = DEPLOYMENT.set(deployment.clone());
    println!("{}", deployment.url());
    let served = deployment.clone();
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lock().lines() {
            match line.as_deref() {
                Ok("drop") => served.drop_sync_connections(),
                _ => break,
            }
        }
    })
    .await
    .expect("the command reader");
}

async fn many_subscriptions(client: &Client, control: &mut Control, n: usize) {
    let before = rss();
    let started = Instant::now();
    let (mut subscriptions, firsts) = subscribe_distinct(client, n).await;
    let first = started.elapsed();
    let after = rss();
    println!(
        "live: {n} subscriptions on one socket: all have a first value after {:.0} ms; RSS {:.1} MB -> {:.1} MB, {:.0} bytes a subscription{}",
        first.as_secs_f64() * 1e3,
        before as f64 / 1e6,
        after as f64 / 1e6,
        after.saturating_sub(before) as f64 / n as f64,
        if matches!(control, Control::Local(_)) {
            " (deployment in-process: its share included)"
        } else {
            ""
        }
    );

    let recovered = recovery(client, control, &mut subscriptions, &firsts).await;
    println!(
        "live: after the socket drops, all {n} are live again (resubscribed, new value) after {:.0} ms",
        recovered.as_secs_f64() * 1e3
    );
}

/// The time until `n` subscriptions are live again after the socket drops, on a client with the default
/// `LiveSettings`: the backoff an application gets, not a shortened one.
async fn recovery_with_defaults(url: &str, control: &mut Control, n: usize) {
    let client = Client::builder(url).build().expect("a loopback URL");
    let (mut subscriptions, firsts) = subscribe_distinct(&client, n).await;
    let recovered = recovery(&client, control, &mut subscriptions, &firsts).await;
    println!(
        "live: default settings: after the socket drops, all {n} are live again (resubscribed, new value) after {:.0} ms",
        recovered.as_secs_f64() * 1e3
    );
}

async fn fan_out_updates(client: &Client, subscribers: usize, updates: usize) {
    let delivered = Arc::new(AtomicUsize::new(0));
    // The generation was bumped once before; the last update brings it to 1 + updates.
    let target = (1 + updates) as f64 * 1e6;
    let mut tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers);
    for _ in 0..subscribers {
        let mut subscription = client
            .query::<_, f64>("items:get", json!({ "i": 0 }))
            .subscribe();
        let (delivered, ready) = (delivered.clone(), ready_tx.clone());
        tasks.push(tokio::spawn(async move {
            let _ = subscription.next().await;
            let _ = ready.send(()).await;
            while let Some(Ok(value)) = subscription.next().await {
                delivered.fetch_add(1, Ordering::Relaxed);
                if value >= target {
                    break;
                }
            }
        }));
    }
    for _ in 0..subscribers {
        ready_rx.recv().await;
    }
    let started = Instant::now();
    for _ in 0..updates {
        let _: () = client
            .mutation("items:bump", json!({}))
            .over_socket()
            .await
            .expect("a bump");
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let delivered = delivered.load(Ordering::Relaxed);
    println!(
        "live: {subscribers} subscribers of one query, {updates} mutations over the socket in {:.0} ms: {:.0} updates delivered a second ({delivered} items, {:.0} mutations a second)",
        elapsed * 1e3,
        delivered as f64 / elapsed,
        updates as f64 / elapsed
    );
}
