//! End to end: the cron trigger example: a secret header, then the digest action, run by the TypeScript
//! functions of `examples/convex`.

use convex::FunctionKind;
use convex::axum::SharedSecret;
use convex_fetch_testing::JsDeployment;
use examples::cron_trigger::router;
use serde_json::{Value, json};

const SECRET: &str = "cron-secret-0123456789";

async fn start(secret: &str) -> (JsDeployment, String) {
    crate::support::example_app(|deployment| {
        router(deployment.client(), SharedSecret::cron(secret))
    })
    .await
}

async fn trigger(app: &str, secret: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{app}/api/cron/daily-digest"));
    if let Some(secret) = secret {
        request = request.header("x-cron-secret", secret);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn the_right_secret_runs_the_digest_action() {
    let (deployment, app) = start(SECRET).await;

    assert_eq!(
        trigger(&app, Some(SECRET)).await,
        (200, json!({ "sent": 2 }))
    );
    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Action, "notifications:sendDailyDigests")
    );
    assert_eq!(calls[0].args, convex::value!({}));
}

#[tokio::test]
async fn a_missing_or_wrong_secret_is_a_401_and_runs_nothing() {
    let (deployment, app) = start(SECRET).await;
    let prefix = &SECRET[..SECRET.len() - 1];
    let longer = format!("{SECRET}0");
    for secret in [
        None,
        Some(""),
        Some("wrong"),
        Some(prefix),
        Some(longer.as_str()),
        Some("CRON-SECRET-0123456789"),
    ] {
        let (status, _) = trigger(&app, secret).await;
        assert_eq!(status, 401, "{secret:?}");
    }
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn an_empty_configured_secret_matches_nothing() {
    let (deployment, app) = start("").await;
    assert_eq!(trigger(&app, Some("")).await.0, 401);
    assert_eq!(trigger(&app, None).await.0, 401);
    assert!(deployment.calls().is_empty());
}
