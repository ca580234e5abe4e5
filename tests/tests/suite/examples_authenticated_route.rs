//! End to end: the authenticated route example: session cookie → JWT at a stand-in token endpoint → a query as
//! that user, run by the TypeScript functions of `examples/convex`.
//!
//! The token endpoint is Better Auth's, not a Convex function: it stays a Rust stand-in here.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use convex_fetch_testing::{Auth, JsDeployment};
use examples::authenticated_route::{AppState, router};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A stand-in for Better Auth's `GET /api/auth/convex/token`, remembering the cookies it was sent. The session
/// value picks the answer.
async fn start_token_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = Router::new().route(
        "/api/auth/convex/token",
        get(move |headers: HeaderMap| {
            let log = Arc::clone(&log);
            async move {
                let cookie = headers
                    .get(COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                log.lock().unwrap().push(cookie.clone());
                let session = cookie.split_once('=').map(|(_, v)| v).unwrap_or_default();
                let answer: Response = match session {
                    "good-session" => {
                        Json(json!({ "token": examples::demo::DEMO_USER_TOKEN })).into_response()
                    }
                    "forged-session" => {
                        Json(json!({ "token": "not-a-jwt-convex-knows" })).into_response()
                    }
                    "tokenless-session" => Json(json!({})).into_response(),
                    "outage-session" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    _ => (
                        StatusCode::UNAUTHORIZED,
                        Json(json!({ "message": "invalid session" })),
                    )
                        .into_response(),
                };
                answer
            }
        }),
    );
    (examples::spawn(app).await.unwrap(), seen)
}

async fn start(site_url: String) -> (JsDeployment, String) {
    crate::support::example_app(|deployment| {
        router(AppState {
            convex: deployment.client(),
            tokens: convex::token::BetterAuth::new(&site_url)
                .unwrap()
                .http_client(examples::http_client().unwrap()),
        })
    })
    .await
}

async fn profile(app: &str, cookie: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{app}/api/user/profile"));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn a_valid_session_calls_the_query_as_its_user() {
    let (site_url, seen) = start_token_endpoint().await;
    let (deployment, app) = start(site_url).await;

    let answer = profile(
        &app,
        Some("theme=dark; better-auth.session_token=good-session; other=1"),
    )
    .await;
    assert_eq!(answer, (200, json!({ "subject": "user_1", "name": "Ada" })));

    // Only the session cookie is forwarded.
    assert_eq!(
        *seen.lock().unwrap(),
        ["better-auth.session_token=good-session"]
    );
    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "users:me");
    assert_eq!(calls[0].auth.identity().unwrap()["subject"], "user_1");
}

#[tokio::test]
async fn the_secure_cookie_name_works_too() {
    let (site_url, seen) = start_token_endpoint().await;
    let (_deployment, app) = start(site_url).await;

    let answer = profile(
        &app,
        Some("__Secure-better-auth.session_token=good-session"),
    )
    .await;
    assert_eq!(answer.0, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        ["__Secure-better-auth.session_token=good-session"]
    );
}

#[tokio::test]
async fn no_cookie_is_a_401_without_any_call() {
    let (site_url, seen) = start_token_endpoint().await;
    let (deployment, app) = start(site_url).await;

    for cookie in [None, Some("theme=dark"), Some("better-auth.session_token=")] {
        assert_eq!(profile(&app, cookie).await.0, 401, "{cookie:?}");
    }
    assert!(seen.lock().unwrap().is_empty());
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn a_refused_session_is_a_401_without_any_convex_call() {
    let (site_url, seen) = start_token_endpoint().await;
    let (deployment, app) = start(site_url).await;

    let answer = profile(&app, Some("better-auth.session_token=expired-session")).await;
    assert_eq!(answer, (401, json!({ "error": "Unauthorized" })));
    assert_eq!(
        profile(&app, Some("better-auth.session_token=tokenless-session"))
            .await
            .0,
        401
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn a_token_convex_refuses_is_a_401() {
    let (site_url, _) = start_token_endpoint().await;
    let (deployment, app) = start(site_url).await;

    let (status, body) = profile(&app, Some("better-auth.session_token=forged-session")).await;
    assert_eq!(status, 401, "{body}");
    // The query was called with the token, which Convex refused before running it.
    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        matches!(&calls[0].auth, Auth::Bearer { token, identity: None } if token == "not-a-jwt-convex-knows"),
        "{:?}",
        calls[0].auth
    );
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_502() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let site_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (deployment, app) = start(site_url).await;

    assert_eq!(
        profile(&app, Some("better-auth.session_token=good-session"))
            .await
            .0,
        502
    );
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn a_failing_token_endpoint_is_a_502_not_a_401() {
    let (site_url, _) = start_token_endpoint().await;
    let (deployment, app) = start(site_url).await;

    let (status, _) = profile(&app, Some("better-auth.session_token=outage-session")).await;
    assert_eq!(status, 502);
    assert!(deployment.calls().is_empty());
}
