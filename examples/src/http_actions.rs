//! Calling an HTTP action of the deployment: `GET /api/site/posts?status=…` forwards to the HTTP action
//! `GET /posts` of `examples/convex/http.ts` on the deployment's site URL, through the route constant `api!`
//! generated ([`crate::generated::http::GET_POSTS`]), and passes its answer on.
//!
//! An HTTP action answers with any status; the route passes a 4xx of the action on as it is (the action
//! meant the caller to see it), and turns anything else that is not a success into a 502 with
//! [`convex::HttpResponse::error_for_status`].

use crate::generated::http::GET_POSTS;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use convex_fetch_testing::{HttpActionRequest, TestDeployment};
use serde::Deserialize;
use serde_json::json;

/// What the route needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Convex deployment: its HTTP actions are served on [`convex::Client::site_url`].
    pub convex: convex::Client,
}

/// The route: `GET /api/site/posts`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/site/posts", get(site_posts))
        .with_state(state)
}

#[derive(Deserialize)]
struct Filter {
    status: Option<String>,
}

async fn site_posts(
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Response, convex::Error> {
    let mut request = state.convex.http(GET_POSTS);
    if let Some(status) = filter.status {
        request = request.query("status", status);
    }
    // A GET: retried after a transient failure, within the client's timeout.
    let answer = request.await?;
    if answer.status().is_client_error() {
        return Ok((answer.status(), answer.into_bytes()).into_response());
    }
    let answer = answer.error_for_status()?;
    let content_type = answer
        .header("content-type")
        .unwrap_or("application/json")
        .to_owned();
    Ok((
        StatusCode::OK,
        [(CONTENT_TYPE, content_type)],
        answer.into_bytes(),
    )
        .into_response())
}

/// A stand-in for `examples/convex/http.ts` in Rust, for tests that inject faults: `GET /posts` answers two
/// posts as JSON, and a bad `status` with 400.
pub async fn local_deployment() -> TestDeployment {
    TestDeployment::builder()
        .http_route("GET", "/posts", |request: HttpActionRequest| async move {
            let posts = [
                ("Hello, Convex", "published", "user_1"),
                ("Draft notes", "draft", "user_2"),
            ];
            let status = request.query("status");
            if status.as_deref().is_some_and(|s| s != "draft" && s != "published") {
                let body = json!({ "error": "status must be draft or published" });
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            let list: Vec<_> = posts
                .iter()
                .filter(|(_, s, _)| status.as_deref().is_none_or(|wanted| wanted == *s))
                .map(|(title, status, author)| json!({ "title": title, "status": status, "author": author }))
                .collect();
            axum::Json(list).into_response()
        })
        .start()
        .await
}
