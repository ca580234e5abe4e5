//! The server-sent events of `examples::live_updates`, end to end: a browser's `GET /posts/live` gets the
//! published titles, then a new event when a post is published, over the client's live connection.

use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use futures_util::StreamExt;
use serde_json::json;
use std::time::Duration;

#[derive(Default)]
struct Posts(Vec<serde_json::Value>);

/// Whether `posts:list` fails, as a query hitting a bug does.
#[derive(Default)]
struct Broken(bool);

/// The data of the next event of the response body (events are separated by a blank line), with the event's
/// name when it is not a plain `message`.
async fn next_named_event(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
) -> (Option<String>, String) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let name = event
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .map(str::to_owned);
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                return (name, data.to_owned());
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("an event within 10 s")
            .expect("the stream goes on")
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// The data of the next event, which must be a `message`.
async fn next_event(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
) -> String {
    let (name, data) = next_named_event(body, buffer).await;
    assert_eq!(name, None, "{data}");
    data
}

#[tokio::test]
async fn published_posts_stream_as_server_sent_events() {
    let post = |title: &str, status: &str| json!({ "_id": format!("{title}-id"), "_creationTime": 1.0, "title": title, "status": status, "author": "Ada" });
    let deployment = TestDeployment::builder()
        .state(Posts(vec![post("Hello", "published"), post("Draft", "draft")]))
        .state(Broken::default())
        .query("posts:list", |ctx: Ctx, args: serde_json::Value| async move {
            if ctx.state::<Broken>()?.0 {
                return Err(FunctionError::message("the db password hunter2 was refused"));
            }
            let posts = ctx.state::<Posts>()?;
            Ok(posts
                .0
                .iter()
                .filter(|p| args.get("status").is_none_or(|s| p["status"] == *s))
                .cloned()
                .collect::<Vec<_>>())
        })
        .mutation("posts:publish", |ctx: Ctx, args: serde_json::Value| async move {
            let title = args["title"].as_str().unwrap_or_default();
            ctx.state::<Posts>()?.0.push(json!({
                "_id": format!("{title}-id"), "_creationTime": 2.0, "title": title, "status": "published", "author": "Ada"
            }));
            Ok(())
        })
        .mutation("posts:break", |ctx: Ctx, _args: serde_json::Value| async move {
            ctx.state::<Broken>()?.0 = true;
            Ok(())
        })
        .start()
        .await;
    let app = examples::live_updates::router(deployment.client());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let response = reqwest::get(format!("http://{address}/posts/live"))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    assert_eq!(next_event(&mut body, &mut buffer).await, r#"["Hello"]"#);
    let () = deployment
        .client()
        .mutation("posts:publish", json!({ "title": "Live" }))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut body, &mut buffer).await,
        r#"["Hello","Live"]"#
    );

    // A failing query is an `error` event that says only the status's reason; the stream goes on.
    let () = deployment
        .client()
        .mutation("posts:break", json!({}))
        .await
        .unwrap();
    assert_eq!(
        next_named_event(&mut body, &mut buffer).await,
        (Some("error".to_owned()), "Internal Server Error".to_owned())
    );

    // The browser goes away: the subscription is dropped and the query removed from the socket.
    drop(body);
    let removed = async {
        loop {
            let removes = deployment
                .sync_messages()
                .iter()
                .flat_map(|m| m["modifications"].as_array().cloned().unwrap_or_default())
                .filter(|m| m["type"] == "Remove")
                .count();
            if removes == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), removed)
        .await
        .expect("the query is unsubscribed once the browser leaves");
}
