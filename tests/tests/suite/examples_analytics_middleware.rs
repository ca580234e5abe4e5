//! End to end: the analytics middleware example: page views recorded in the background, never delaying the
//! page, bounded when the deployment is slow. Against the TypeScript functions of `examples/convex`.

use convex_fetch_testing::{Fault, JsDeployment, RecordedCall};
use examples::analytics_middleware::{AppState, router};
use serde_json::json;
use std::time::{Duration, Instant};

/// Generous: the tests wait this long for background work, but pass as soon as it is done.
const PATIENCE: Duration = Duration::from_secs(20);

async fn start(max_in_flight: usize) -> (JsDeployment, AppState, String) {
    let mut state = None;
    let (deployment, app) = crate::support::example_app(|deployment| {
        let app = AppState::new(deployment.client(), max_in_flight);
        state = Some(app.clone());
        router(app)
    })
    .await;
    (deployment, state.unwrap(), app)
}

fn page_views(deployment: &JsDeployment) -> Vec<RecordedCall> {
    deployment
        .calls()
        .into_iter()
        .filter(|call| call.path == "analytics:recordPageView")
        .collect()
}

/// Waits until the deployment has received `n` page views.
async fn wait_for_page_views(deployment: &JsDeployment, n: usize) -> Vec<RecordedCall> {
    let start = Instant::now();
    loop {
        let views = page_views(deployment);
        if views.len() >= n || start.elapsed() > PATIENCE {
            return views;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(url)
        .header("User-Agent", "test-agent/1.0")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn records_pages_but_not_api_routes() {
    let (deployment, _state, app) = start(8).await;

    assert_eq!(
        get(format!("{app}/api/health")).await,
        (200, json!({ "ok": true }).to_string())
    );
    assert_eq!(
        get(format!("{app}/about")).await,
        (200, "About us".to_owned())
    );

    let views = wait_for_page_views(&deployment, 1).await;
    assert_eq!(views.len(), 1, "{views:?}");
    let field = |name| views[0].args.get(name).cloned();
    assert_eq!(field("path"), Some("/about".into()));
    assert_eq!(field("userAgent"), Some("test-agent/1.0".into()));
    assert!(
        field("timestamp")
            .and_then(|t| t.as_f64())
            .is_some_and(|t| t > 1.6e12)
    );
}

#[tokio::test]
async fn a_slow_deployment_does_not_delay_the_page() {
    let (deployment, _state, app) = start(8).await;
    let latency = Duration::from_secs(3);
    deployment.set_latency(latency);

    let started = Instant::now();
    assert_eq!(get(format!("{app}/")).await, (200, "Welcome".to_owned()));
    // The page is served while the mutation is still on its way: the deployment has not read it yet.
    assert!(page_views(&deployment).is_empty());
    assert!(
        started.elapsed() < latency,
        "the page took {:?}",
        started.elapsed()
    );

    // It does arrive, later.
    assert_eq!(wait_for_page_views(&deployment, 1).await.len(), 1);
}

#[tokio::test]
async fn a_failing_deployment_does_not_break_the_page() {
    let (deployment, _state, app) = start(8).await;
    deployment.fail_next(1, Fault::DropConnection);

    assert_eq!(get(format!("{app}/")).await, (200, "Welcome".to_owned()));
    let start = Instant::now();
    while deployment.pending_faults() > 0 && start.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        deployment.pending_faults(),
        0,
        "the recording was attempted"
    );
    // Later page views are recorded as usual.
    assert_eq!(get(format!("{app}/about")).await.0, 200);
    let views = wait_for_page_views(&deployment, 2).await;
    assert_eq!(
        views.last().and_then(|v| v.args.get("path")),
        Some(&"/about".into())
    );
}

#[tokio::test]
async fn page_views_beyond_the_limit_are_dropped_not_queued() {
    let (deployment, state, app) = start(2).await;
    deployment.set_latency(Duration::from_secs(3));

    for _ in 0..5 {
        assert_eq!(get(format!("{app}/")).await.0, 200);
    }
    // Two recordings hold the permits; the three others were dropped at once.
    assert_eq!(state.dropped_page_views(), 3);
    assert_eq!(wait_for_page_views(&deployment, 2).await.len(), 2);

    // Once they are done, the permits are free again.
    deployment.set_latency(Duration::ZERO);
    let start = Instant::now();
    while !page_views(&deployment)
        .iter()
        .any(|view| view.args.get("path").and_then(|p| p.as_str()) == Some("/about"))
    {
        assert!(
            start.elapsed() < PATIENCE,
            "the permits were never released"
        );
        assert_eq!(get(format!("{app}/about")).await.0, 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
