//! End to end: the GitHub import example, with a stand-in for GitHub's API, storing through the TypeScript
//! functions of `examples/convex`.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use convex::FunctionKind;
use convex_fetch_testing::JsDeployment;
use examples::api::NewIssue;
use examples::github_import::{AppState, router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A stand-in for `GET /repos/{owner}/{repo}/issues`: `acme/widgets` has two issues and a pull request,
/// `acme/broken` fails, anything else does not exist. Remembers each request's path and `Authorization`.
async fn start_github() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = Router::new().route(
        "/repos/{owner}/{repo}/issues",
        get(move |Path((owner, repo)): Path<(String, String)>, headers: HeaderMap| {
            let log = Arc::clone(&log);
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                log.lock().unwrap().push((format!("{owner}/{repo}"), auth.to_owned()));
                let answer: Response = match (owner.as_str(), repo.as_str()) {
                    ("acme", "widgets") => Json(json!([
                        { "id": 9_007_199_254_740_000_i64, "number": 1, "title": "Crash on start", "body": "Steps: …" },
                        { "id": 2002, "number": 2, "title": "Add dark mode", "body": null },
                        { "id": 2003, "number": 3, "title": "Fix typo", "body": "", "pull_request": { "url": "…" } },
                    ]))
                    .into_response(),
                    ("acme", "broken") => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    _ => (StatusCode::NOT_FOUND, Json(json!({ "message": "Not Found" }))).into_response(),
                };
                answer
            }
        }),
    );
    (examples::spawn(app).await.unwrap(), seen)
}

async fn start(api_url: String, token: Option<&str>) -> (JsDeployment, String) {
    crate::support::example_app(|deployment| {
        router(AppState {
            convex: deployment.client(),
            http: examples::http_client().unwrap(),
            api_url,
            token: token.map(convex::Secret::new),
        })
    })
    .await
}

async fn import(app: &str, repo_url: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{app}/api/import/github"))
        .json(&json!({ "repoUrl": repo_url }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportArgs {
    repo_url: String,
    issues: Vec<NewIssue>,
}

#[tokio::test]
async fn imports_the_issues_with_one_mutation() {
    let (github, seen) = start_github().await;
    let (deployment, app) = start(github, Some("ghp_test")).await;

    assert_eq!(
        import(&app, "https://github.com/acme/widgets").await,
        (200, json!({ "imported": 2 }))
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [("acme/widgets".to_owned(), "Bearer ghp_test".to_owned())]
    );

    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Mutation, "issues:importMany")
    );
    let args: ImportArgs = calls[0].decode_args().unwrap();
    assert_eq!(args.repo_url, "https://github.com/acme/widgets");
    let titles: Vec<&str> = args.issues.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Crash on start", "Add dark mode"],
        "the pull request is left out"
    );
    // GitHub ids travel as `v.int64()`; a missing body is left out, not sent as null.
    assert_eq!(args.issues[0].github_id.0, 9_007_199_254_740_000);
    let issue = |i: usize| {
        calls[0]
            .args
            .get("issues")
            .and_then(|v| v.as_array()?.get(i))
    };
    assert_eq!(
        issue(0).and_then(|v| v.get("githubId")),
        Some(&convex::value::Value::Int64(9_007_199_254_740_000))
    );
    assert!(issue(1).is_some_and(|v| v.get("body").is_none()));
}

#[tokio::test]
async fn without_a_token_no_authorization_is_sent() {
    let (github, seen) = start_github().await;
    let (_deployment, app) = start(github, None).await;

    assert_eq!(
        import(&app, "https://github.com/acme/widgets/").await.0,
        200
    );
    assert_eq!(seen.lock().unwrap()[0].1, "");
}

#[tokio::test]
async fn a_repo_url_that_is_not_a_repository_is_refused_before_github() {
    let (github, seen) = start_github().await;
    let (deployment, app) = start(github, None).await;

    for url in [
        "acme/widgets",
        "https://github.com/acme",
        "https://github.com/../admin",
        "https://github.com/a/b/c",
    ] {
        assert_eq!(import(&app, url).await.0, 400, "{url}");
    }
    assert!(seen.lock().unwrap().is_empty());
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn github_failures_are_passed_on_and_nothing_is_stored() {
    let (github, _) = start_github().await;
    let (deployment, app) = start(github, None).await;

    assert_eq!(import(&app, "https://github.com/acme/missing").await.0, 404);
    assert_eq!(import(&app, "https://github.com/acme/broken").await.0, 502);
    assert!(deployment.calls().is_empty());
}
