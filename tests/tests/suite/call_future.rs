//! A `Call` is a `Future`: it goes wherever futures go, with options chained before the first poll.

use convex::{Error, ErrorKind};
use convex_fetch_testing::{Auth, Ctx, TestDeployment};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

#[convex::query("posts:get")]
async fn get_post(n: i64) -> String;

#[convex::query("posts:slow")]
async fn slow_post() -> String;

#[derive(Debug, Deserialize, PartialEq)]
struct Title {
    title: String,
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:get", |_ctx: Ctx, args: Value| async move {
            Ok(format!("post {}", args["n"]))
        })
        .query("posts:slow", |_ctx: Ctx, _args: Value| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok("late")
        })
        .query("posts:untyped", |_ctx: Ctx, _args: Value| async move {
            Ok(json!({ "title": "Hello", "views": 3 }))
        })
        .token("jwt-of-ada", json!({ "subject": "ada" }))
        .start()
        .await
}

#[tokio::test]
async fn calls_join_stream_spawn_and_select_as_written() {
    let deployment = deployment().await;
    let client = deployment.client();

    let all = join_all((1..=3).map(|n| get_post(n).on(&client))).await;
    let all: Vec<String> = all.into_iter().collect::<Result<_, Error>>().unwrap();
    assert_eq!(all, ["post 1", "post 2", "post 3"]);

    let mut unordered: FuturesUnordered<_> = (1..=5).map(|n| get_post(n).on(&client)).collect();
    let mut seen = Vec::new();
    while let Some(post) = unordered.next().await {
        seen.push(post.unwrap());
    }
    seen.sort();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[4], "post 5");

    let spawned = tokio::spawn(get_post(7).on(client.clone()));
    assert_eq!(spawned.await.unwrap().unwrap(), "post 7");

    let winner = tokio::select! {
        slow = slow_post().on(&client) => slow.map(|_| "slow"),
        fast = get_post(8).on(&client) => fast.map(|_| "fast"),
    };
    assert_eq!(winner.unwrap(), "fast");
}

#[tokio::test]
async fn options_chain_before_the_first_poll_and_nothing_is_sent_before_it() {
    let deployment = deployment().await;
    let call = get_post(1).on(deployment.client()).auth("jwt-of-ada");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        deployment.calls().is_empty(),
        "a call not yet polled sends nothing"
    );

    call.await.unwrap();
    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        matches!(&calls[0].auth, Auth::Bearer { token, .. } if token == "jwt-of-ada"),
        "{:?}",
        calls[0].auth
    );
}

#[tokio::test]
async fn returning_decodes_into_the_callers_type() {
    let deployment = deployment().await;
    let client = deployment.client();
    let title = client
        .query("posts:untyped", json!({}))
        .returning::<Title>()
        .await
        .unwrap();
    assert_eq!(
        title,
        Title {
            title: "Hello".into()
        }
    );

    // On a typed stub too: the declared String is replaced by the caller's type.
    let text = get_post(2)
        .on(&client)
        .returning::<convex::value::Value>()
        .await
        .unwrap();
    assert_eq!(text, convex::value::Value::String("post 2".into()));

    // And the wrong type is a decode error, not a panic.
    let err = get_post(3)
        .on(&client)
        .returning::<Title>()
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn http_requests_uploads_and_downloads_are_futures_too() {
    let deployment = TestDeployment::builder()
        .http_route(
            "GET",
            "/echo",
            |request: convex_fetch_testing::HttpActionRequest| async move {
                format!("echo {}", request.path())
            },
        )
        .upload_url_mutation("files:generateUploadUrl")
        .start()
        .await;
    let client = deployment.client();
    let answers = join_all((0..3).map(|_| client.http_request(convex::Method::GET, "/echo"))).await;
    for answer in answers {
        assert_eq!(answer.unwrap().text().unwrap(), "echo /echo");
    }
    let upload_url = || client.mutation::<_, String>("files:generateUploadUrl", json!({}));
    let uploads =
        (0..3).map(|i| client.upload(upload_url(), format!("file {i}").into_bytes(), "text/plain"));
    let ids: Vec<_> = join_all(uploads)
        .await
        .into_iter()
        .collect::<Result<_, Error>>()
        .unwrap();
    assert_eq!(deployment.stored_files(), 3);
    let spawned = tokio::spawn(client.upload(upload_url(), b"spawned".to_vec(), "text/plain"));
    let id = spawned.await.unwrap().unwrap();
    assert_eq!(deployment.stored_file(id.as_str()).unwrap(), b"spawned");
    assert_eq!(ids.len(), 3);
}
