//! End to end: the HTTP-action example: a route forwarding to `GET /posts` on the deployment's site URL.

use examples::http_actions::{AppState, local_deployment, router};
use serde_json::{Value, json};

#[tokio::test]
async fn the_route_forwards_to_the_http_action_and_passes_its_answer_on() {
    let deployment = local_deployment().await;
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();
    let http = reqwest::Client::new();

    let response = http
        .get(format!("{app}/api/site/posts?status=published"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let posts: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(
        posts,
        json!([{ "title": "Hello, Convex", "status": "published", "author": "user_1" }])
    );
    let recorded = deployment.http_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].path.as_str()),
        ("GET", "/posts")
    );
    assert_eq!(recorded[0].query.as_deref(), Some("status=published"));

    // The action's own 400 is passed on.
    let response = http
        .get(format!("{app}/api/site/posts?status=archived"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("draft or published")
    );

    // A failing deployment is a 502, and the GET was retried first.
    deployment.fail_next(
        3,
        convex_fetch_testing::Fault::html(502, "<html>down</html>"),
    );
    let response = http
        .get(format!("{app}/api/site/posts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(deployment.pending_faults(), 0, "three attempts");
}

#[tokio::test]
async fn the_route_calls_the_typescript_http_action() {
    // The real `GET /posts` of `examples/convex/http.ts`, on the site port of the local deployment.
    let deployment = examples::local::start().await.unwrap();
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();
    let response = reqwest::get(format!("{app}/api/site/posts?status=draft"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let posts: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(
        posts.as_array().is_some_and(|posts| !posts.is_empty()),
        "{posts}"
    );
    assert!(
        posts
            .as_array()
            .unwrap()
            .iter()
            .all(|post| post["status"] == "draft"),
        "{posts}"
    );
    let response = reqwest::get(format!("{app}/api/site/posts?status=archived"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}
