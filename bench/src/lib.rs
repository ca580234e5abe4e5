//! Shared fixtures of the benchmarks: a local server that answers like Convex with fixed bodies, the
//! realistic result type, and the calls a user would write by hand with reqwest: a quick one through
//! `serde_json::Value`, and a careful one that decodes the bytes straight into typed structs.

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use convex::value::Int64;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde::{Deserialize, Deserializer, Serialize};
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

/// The args of the one-document query, the usual `get` by id.
#[derive(Debug, Clone, Serialize)]
pub struct GetPost {
    pub id: String,
}

impl convex::ConvexFunction for GetPost {
    const KIND: convex::FunctionKind = convex::FunctionKind::Query;
    type Output = Post;
    fn path(&self) -> &str {
        "posts:get"
    }
}
impl convex::Query for GetPost {}

/// The id the one-document query asks for.
pub const POST_ID: &str = "k5700000000000000000000000000000";

/// The success body of `posts:list` for `n` posts: `views` and `likes` travel as `$integer`, as a
/// `v.int64()` field does.
pub fn success_body(n: usize) -> Bytes {
    let posts: Vec<serde_json::Value> = posts(n).into_iter().map(wire_post).collect();
    let body = serde_json::json!({ "status": "success", "value": posts });
    Bytes::from(serde_json::to_vec(&body).expect("JSON encodes"))
}

/// The success body of `posts:get`: one post (about 330 bytes), the answer most calls get.
pub fn success_body_one() -> Bytes {
    let post = wire_post(posts(1).remove(0));
    let body = serde_json::json!({ "status": "success", "value": post });
    Bytes::from(serde_json::to_vec(&body).expect("JSON encodes"))
}

fn wire_post(p: Post) -> serde_json::Value {
    let mut v = serde_json::to_value(&p).expect("a post is plain JSON");
    v["views"] = serde_json::to_value(Int64(p.views)).expect("an Int64 encodes");
    v["likes"] = serde_json::to_value(Int64(p.likes)).expect("an Int64 encodes");
    v
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

/// The one-document query through convex-fetch.
pub async fn typed_get(client: &convex::Client) -> Post {
    client
        .call(GetPost {
            id: POST_ID.to_owned(),
        })
        .await
        .expect("the bench server answers like Convex")
}

/// What a careful hand-written call keeps between calls: the reqwest client and the endpoint's URL, built once.
#[derive(Clone, Debug)]
pub struct HandClient {
    pub http: reqwest::Client,
    pub query_url: String,
    /// A deadline for each call (reqwest's per-request timeout), as convex-fetch always sets one; none in the
    /// main baseline.
    pub timeout: Option<std::time::Duration>,
}

impl HandClient {
    /// A client for the deployment at `url`, without a deadline.
    pub fn new(url: &str) -> HandClient {
        HandClient {
            http: reqwest::Client::new(),
            query_url: format!("{url}/api/query"),
            timeout: None,
        }
    }

    /// The same, with a deadline of `convex::DEFAULT_TIMEOUT` on each call.
    pub fn with_timeout(url: &str) -> HandClient {
        HandClient {
            timeout: Some(convex::DEFAULT_TIMEOUT),
            ..HandClient::new(url)
        }
    }
}

/// The request body, written straight from typed args.
#[derive(Serialize)]
struct HandBody<'a, A> {
    path: &'a str,
    format: &'a str,
    args: A,
}

/// The answer, read straight into the result type; `status` borrowed from the bytes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HandAnswer<'a, T> {
    #[serde(borrow)]
    status: &'a str,
    value: Option<T>,
    error_message: Option<String>,
}

/// A post as a careful hand-written call reads it: the `v.int64()` counters through a small `$integer`
/// decoder, everything else as serde reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandPost {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_creationTime")]
    pub creation_time: f64,
    pub title: String,
    pub body: String,
    pub author: String,
    #[serde(deserialize_with = "int64")]
    pub views: i64,
    #[serde(deserialize_with = "int64")]
    pub likes: i64,
    pub score: f64,
    pub published: bool,
    pub tags: Vec<String>,
}

/// `{"$integer": "<base64 of 8 little-endian bytes>"}`, as a hand-written call must read a `v.int64()`.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    struct Tagged<'a> {
        #[serde(rename = "$integer", borrow)]
        integer: &'a str,
    }
    let tagged = Tagged::deserialize(d)?;
    let mut bytes = [0u8; 8];
    match base64::engine::general_purpose::STANDARD.decode_slice(tagged.integer, &mut bytes) {
        Ok(8) => Ok(i64::from_le_bytes(bytes)),
        _ => Err(serde::de::Error::custom("not a Convex int64")),
    }
}

static CONVEX_CLIENT: HeaderName = HeaderName::from_static("convex-client");

/// The careful hand-written call: typed args written with `serde_json::to_vec`, static headers, the answer's
/// bytes decoded with `serde_json::from_slice` straight into the typed result, status checked.
pub async fn hand_typed_call<A: Serialize, T: serde::de::DeserializeOwned>(
    hand: &HandClient,
    path: &str,
    args: A,
) -> T {
    let body = serde_json::to_vec(&HandBody {
        path,
        format: "convex_encoded_json",
        args,
    })
    .expect("JSON encodes");
    let mut request = hand
        .http
        .post(&hand.query_url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(&CONVEX_CLIENT, HeaderValue::from_static("npm-1.48.0"))
        .body(body);
    if let Some(timeout) = hand.timeout {
        request = request.timeout(timeout);
    }
    let response = request.send().await.expect("the bench server answers");
    assert!(response.status().is_success(), "the bench server succeeds");
    let bytes = response
        .bytes()
        .await
        .expect("the bench server answers in full");
    let answer: HandAnswer<'_, T> = serde_json::from_slice(&bytes).expect("a Convex answer");
    match (answer.status, answer.value) {
        ("success", Some(value)) => value,
        _ => panic!("the function failed: {:?}", answer.error_message),
    }
}

/// The 20-post list, written by hand with care.
pub async fn hand_typed_list(hand: &HandClient) -> Vec<HandPost> {
    hand_typed_call(
        hand,
        "posts:list",
        ListPosts {
            status: "published".to_owned(),
            limit: 20,
        },
    )
    .await
}

/// The one-post `get`, written by hand with care.
pub async fn hand_typed_get(hand: &HandClient) -> HandPost {
    hand_typed_call(
        hand,
        "posts:get",
        GetPost {
            id: POST_ID.to_owned(),
        },
    )
    .await
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
    let medians = compare_all(rounds, iterations, &mut [&mut baseline, &mut candidate]);
    (medians[0], medians[1])
}

/// Times every contender in alternating rounds (one round of each in turn, `rounds` times) and returns the
/// median time per iteration of each, in nanoseconds, in the order given.
pub fn compare_all(
    rounds: usize,
    iterations: usize,
    contenders: &mut [&mut dyn FnMut()],
) -> Vec<f64> {
    let time = |f: &mut dyn FnMut()| {
        let started = std::time::Instant::now();
        for _ in 0..iterations {
            f();
        }
        started.elapsed().as_nanos() as f64 / iterations as f64
    };
    // One untimed round of each warms caches, connection pools and allocators.
    for f in contenders.iter_mut() {
        time(*f);
    }
    let mut samples = vec![Vec::with_capacity(rounds); contenders.len()];
    for _ in 0..rounds {
        for (f, samples) in contenders.iter_mut().zip(&mut samples) {
            samples.push(time(*f));
        }
    }
    samples.iter_mut().map(|s| median(s)).collect()
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
