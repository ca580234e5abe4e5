//! End to end: the error-handling example, failed calls answered through `convex::Error`'s `IntoResponse`.

use convex::Client;
use convex_fetch_testing::{Ctx, Fault, FunctionError, TestDeployment};
// Against the TypeScript functions of `examples/convex`, except where a test needs a function they do not
// have (see `a_crash_is_a_500_without_its_details`).
use examples::error_handling::{AppState, router};
use serde_json::{Value, json};
use std::time::Duration;

async fn create(app: &str, text: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{app}/api/tasks"))
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn success_and_convex_error() {
    let deployment = examples::local::start().await.unwrap();
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();

    let (status, created) = create(&app, "Ship it").await;
    assert_eq!(status, 200, "{created}");
    // A new id of the `tasks` table (convex-test's form: digits, then the table).
    let id = created["id"].as_str().unwrap();
    assert!(
        id.ends_with("tasks") && id[..id.len() - 5].bytes().all(|b| b.is_ascii_digit()),
        "{created}"
    );
    // `throw new ConvexError({ code, message })` → 400 with the data.
    assert_eq!(
        create(&app, "  ").await,
        (
            400,
            json!({
                "error": "a task needs some text",
                "data": { "code": "EMPTY_TEXT", "message": "a task needs some text" }
            })
        )
    );
    let texts: Vec<Option<String>> = deployment
        .calls()
        .into_iter()
        .map(|call| {
            call.args
                .get("text")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(texts, [Some("Ship it".to_owned()), Some("  ".to_owned())]);
}

#[tokio::test]
async fn a_timeout_is_a_504() {
    let deployment = examples::local::start().await.unwrap();
    let convex = Client::builder(deployment.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let app = examples::spawn(router(AppState { convex })).await.unwrap();
    deployment.set_latency(Duration::from_secs(2));

    assert_eq!(
        create(&app, "slow").await,
        (504, json!({ "error": "Gateway Timeout" }))
    );
}

#[tokio::test]
async fn an_unreachable_deployment_is_a_502() {
    let deployment = examples::local::start().await.unwrap();
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();
    // The connection is dropped without an answer: the mutation may have run, so it is not retried.
    deployment.fail_next(1, Fault::DropConnection);

    assert_eq!(
        create(&app, "lost").await,
        (502, json!({ "error": "Bad Gateway" }))
    );
    assert_eq!(deployment.pending_faults(), 0);
}

#[tokio::test]
async fn a_crash_is_a_500_without_its_details() {
    // The Rust test deployment: no function of `examples/convex` crashes with a plain `Error`.
    let deployment = TestDeployment::builder()
        .mutation("tasks:create", |_: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::message("db password is hunter2"))
        })
        .start()
        .await;
    let app = examples::spawn(router(AppState {
        convex: deployment.client(),
    }))
    .await
    .unwrap();

    let (status, body) = create(&app, "boom").await;
    assert_eq!(status, 500);
    assert_eq!(body, json!({ "error": "Internal Server Error" }));
}
