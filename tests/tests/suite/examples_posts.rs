//! End to end: the `posts` example's routes, over HTTP, against the TypeScript functions of
//! `examples/convex`.

use convex::FunctionKind;
use convex_fetch_testing::JsDeployment;
use examples::posts::{AppState, router};
use serde_json::{Value, json};

/// The examples' functions and the example app in front of them.
async fn start() -> (JsDeployment, String) {
    crate::support::example_app(|deployment| {
        router(AppState {
            convex: deployment.client(),
        })
    })
    .await
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
    // An id of the `posts` table, in convex-test's form (digits, then the table).
    assert!(
        posts[0]["_id"].as_str().unwrap().ends_with("posts"),
        "{posts}"
    );
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
    let task_id = first_task_id(&deployment).await;
    // convex-test's ids are stable: the binary's doc comment shows this one.
    assert_eq!(task_id, "000000000000000000000010003tasks");
    deployment.clear_calls();

    let response = http
        .post(format!("{app}/api/tasks/complete"))
        .json(&json!({ "taskId": task_id }))
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
    assert_eq!(
        calls[0].args,
        convex::value!({ "taskId": task_id.as_str() })
    );

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
    // A well-formed id of the `tasks` table that no task has: the function runs and throws.
    let missing = "999999tasks";
    let response = reqwest::Client::new()
        .post(format!("{app}/api/tasks/complete"))
        .json(&json!({ "taskId": missing }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        body(response).await,
        json!({
            "error": format!("no task with id {missing}"),
            "data": { "code": "TASK_NOT_FOUND", "message": format!("no task with id {missing}") }
        })
    );
    assert_eq!(deployment.calls().len(), 1);
}

#[tokio::test]
async fn an_id_of_another_table_is_refused_by_the_validator() {
    let (deployment, app) = start().await;
    let posts: Value = deployment
        .client()
        .query("posts:list", json!({}))
        .await
        .unwrap();
    let post_id = posts[0]["_id"].as_str().unwrap().to_owned();

    // `v.id("tasks")` refuses a post's id before the handler runs: an ArgumentValidationError.
    let err = examples::api::complete_task(convex::value::Id::new(post_id.clone()))
        .on(deployment.client())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"does not match the table name in validator `v.id("tasks")`"#),
        "{err}"
    );

    // The caller's id was refused: 400, with only the status's reason (the validator's text is logged).
    assert!(err.is_argument_validation(), "{err:?}");
    let response = reqwest::Client::new()
        .post(format!("{app}/api/tasks/complete"))
        .json(&json!({ "taskId": post_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(body(response).await, json!({ "error": "Bad Request" }));
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
    assert_eq!(body(response).await["data"]["code"], "INVALID_MONTH");
}

/// The id of the first task `init` inserted, "Write the quickstart", from `tasks:list`.
async fn first_task_id(deployment: &JsDeployment) -> String {
    let page: Value = deployment
        .client()
        .query(
            "tasks:list",
            json!({ "paginationOpts": { "numItems": 1, "cursor": null } }),
        )
        .await
        .unwrap();
    assert_eq!(page["page"][0]["text"], "Write the quickstart", "{page}");
    page["page"][0]["_id"].as_str().unwrap().to_owned()
}
