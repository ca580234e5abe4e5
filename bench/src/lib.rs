//! Shared fixtures of the benchmarks: a local server that answers like Convex with fixed bodies, the
//! realistic result type, and the call a user would write by hand with reqwest.

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use convex::value::Int64;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One post as a Convex query returns it: strings, a float timestamp, `v.int64()` counters, a nested list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_creationTime")]
    pub creation_time: f64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub views: i64,
    pub likes: i64,
    pub score: f64,
    pub published: bool,
    pub tags: Vec<String>,
}

/// `n` distinct posts, about 330 bytes each in the Convex encoding.
pub fn posts(n: usize) -> Vec<Post> {
    (0..n)
        .map(|i| Post {
            id: format!("k57{i:029}"),
            creation_time: 1_732_000_000_000.0 + i as f64 * 1000.5,
            title: format!("Post number {i}: a title of typical length"),
            body: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt."
                .to_owned(),
            author: format!("user_{}", i % 97),
            views: 1_000_000 + i as i64,
            likes: (i as i64) * 3,
            score: i as f64 / 7.0,
            published: i % 2 == 0,
            tags: vec!["rust".to_owned(), "convex".to_owned()],
        })
        .collect()
}

/// The args of the benchmarked query.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPosts {
    pub status: String,
    pub limit: u32,
}

impl convex::ConvexFunction for ListPosts {
    const KIND: convex::FunctionKind = convex::FunctionKind::Query;
    type Output = Vec<Post>;
    fn path(&self) -> &str {
        "posts:list"
    }
}
impl convex::Query for ListPosts {}

/// The success body of `posts:list` for `n` posts: `views` and `likes` travel as `$integer`, as a
/// `v.int64()` field does.
pub fn success_body(n: usize) -> Bytes {
    let posts: Vec<serde_json::Value> = posts(n)
        .into_iter()
        .map(|p| {
            let mut v = serde_json::to_value(&p).expect("a post is plain JSON");
            v["views"] = serde_json::to_value(Int64(p.views)).expect("an Int64 encodes");
            v["likes"] = serde_json::to_value(Int64(p.likes)).expect("an Int64 encodes");
            v
        })
        .collect();
    let body = serde_json::json!({ "status": "success", "value": posts });
    Bytes::from(serde_json::to_vec(&body).expect("JSON encodes"))
}

/// Serves `body` to every `POST /api/query` on 127.0.0.1; no handler logic sits in the measured path.
pub async fn serve_fixed(body: Bytes) -> SocketAddr {
    let app = Router::new().route(
        "/api/query",
        post(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("bench server") });
    addr
}

/// The call a user would write without this crate: a `json!` body, `reqwest`, and a `serde_json::Value`.
pub async fn hand_written_call(http: &reqwest::Client, url: &str) -> serde_json::Value {
    let body = serde_json::json!({
        "path": "posts:list",
        "format": "convex_encoded_json",
        "args": { "status": "published", "limit": 20 },
    });
    let response = http
        .post(format!("{url}/api/query"))
        .header("content-type", "application/json")
        .header("convex-client", "npm-1.48.0")
        .body(serde_json::to_vec(&body).expect("JSON encodes"))
        .send()
        .await
        .expect("the bench server answers");
    let bytes = response
        .bytes()
        .await
        .expect("the bench server answers in full");
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).expect("the body is JSON");
    value["value"].take()
}

/// The same call through convex-fetch, decoded into the user's type.
pub async fn typed_call(client: &convex::Client) -> Vec<Post> {
    client
        .call(ListPosts {
            status: "published".to_owned(),
            limit: 20,
        })
        .await
        .expect("the bench server answers like Convex")
}

/// Runs a measurement in full under `cargo bench` (which passes `--bench`), and once, as a smoke test, under
/// `cargo test --benches`.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Times `baseline` and `candidate` in alternating rounds, so both see the same machine load, and returns
/// the median time per iteration of each, in nanoseconds.
pub fn compare(
    rounds: usize,
    iterations: usize,
    mut baseline: impl FnMut(),
    mut candidate: impl FnMut(),
) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let started = std::time::Instant::now();
        for _ in 0..iterations {
            f();
        }
        started.elapsed().as_nanos() as f64 / iterations as f64
    };
    // One untimed round of each warms caches, connection pools and allocators.
    time(&mut baseline);
    time(&mut candidate);
    let (mut b, mut c) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        b.push(time(&mut baseline));
        c.push(time(&mut candidate));
    }
    (median(&mut b), median(&mut c))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Prints one result line: both medians and the candidate's speed relative to the baseline (> 1 is faster).
pub fn report(name: &str, baseline_name: &str, baseline_ns: f64, candidate_ns: f64) {
    println!(
        "{name:<44} {baseline_name}: {:>10.1} µs   convex-fetch: {:>10.1} µs   speed ratio: {:.2}x",
        baseline_ns / 1000.0,
        candidate_ns / 1000.0,
        baseline_ns / candidate_ns
    );
}
