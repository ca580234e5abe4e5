//! End to end: the `posts` example's routes, over HTTP, against the demo deployment.

use convex::FunctionKind;
use convex_fetch_testing::TestDeployment;
use examples::posts::{AppState, router};
use serde_json::{Value, json};

/// The demo deployment and the example app in front of it.
async fn start() -> (TestDeployment, String) {
    let deployment = examples::demo::start().await;
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();
    (deployment, app)
}

async fn body(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn lists_posts_through_the_query() {
    let (deployment, app) = start().await;
    let http = reqwest::Client::new();

    let response = http
        .get(format!("{app}/api/posts?status=published"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let posts = body(response).await;
    let titles: Vec<&str> = posts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Hello, Convex", "Typed calls from Rust"]);
    assert_eq!(posts[0]["_id"], "post_1");
    assert!(posts[0]["_creationTime"].is_number());

    let response = http.get(format!("{app}/api/posts")).send().await.unwrap();
    assert_eq!(body(response).await.as_array().unwrap().len(), 3);

    let calls = deployment.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Query, "posts:list")
    );
    assert_eq!(calls[0].args, convex::value!({ "status": "published" }));
    // `None` is left out of the args, as `v.optional` expects.
    assert_eq!(calls[1].args, convex::value!({}));
}

#[tokio::test]
async fn an_unknown_status_is_refused_before_convex() {
    let (deployment, app) = start().await;
    let response = reqwest::get(format!("{app}/api/posts?status=archived"))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn completes_a_task_through_the_mutation() {
    let (deployment, app) = start().await;
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{app}/api/tasks/complete"))
        .json(&json!({ "taskId": examples::demo::FIRST_TASK_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body(response).await, json!({ "success": true }));

    let calls = deployment.calls();
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Mutation, "tasks:complete")
    );
    assert_eq!(calls[0].args, convex::value!({ "taskId": "task_1" }));

    // The report sees the completed task.
    let response = http
        .post(format!("{app}/api/reports"))
        .json(&json!({ "month": 6, "year": 2025 }))
        .send()
        .await
        .unwrap();
    assert_eq!(body(response).await["tasksCompleted"], 1);
}

#[tokio::test]
async fn an_unknown_task_is_a_400_with_the_convex_error_data() {
    let (deployment, app) = start().await;
    let response = reqwest::Client::new()
        .post(format!("{app}/api/tasks/complete"))
        .json(&json!({ "taskId": "task_404" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        body(response).await,
        json!({ "error": { "code": "TASK_NOT_FOUND", "message": "no task with id task_404" } })
    );
    assert_eq!(deployment.executions("tasks:complete"), 1);
}

#[tokio::test]
async fn generates_a_report_through_the_action() {
    let (deployment, app) = start().await;
    let http = reqwest::Client::new();

    let response = http
        .post(format!("{app}/api/reports"))
        .json(&json!({ "month": 6, "year": 2025 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response).await,
        json!({ "month": 6, "year": 2025, "postsPublished": 2, "tasksCompleted": 0 })
    );
    let calls = deployment.calls();
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Action, "reports:generate")
    );
    assert_eq!(calls[0].args, convex::value!({ "month": 6, "year": 2025 }));

    let response = http
        .post(format!("{app}/api/reports"))
        .json(&json!({ "month": 13, "year": 2025 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(body(response).await["error"]["code"], "INVALID_MONTH");
}
