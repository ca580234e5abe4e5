//! HTTP actions: handlers on a method and a path (or a path prefix), served under `/http` as a self-hosted
//! backend serves them on its main port.

use super::auth::authenticate;
use super::lock;
use super::routes::{HttpActionRequest, RecordedHttpRequest};
use super::shared::Shared;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The largest request body an HTTP action reads; Convex's own limit is 20 MiB.
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Where the deployment serves HTTP actions on its own port: the site URL is the deployment URL followed by
/// this, as a self-hosted backend's site proxy forwards to it.
pub(crate) const SITE_PREFIX: &str = "/http";

/// Serves a request under [`SITE_PREFIX`]: finds the route, records the request and runs the handler.
pub(crate) async fn handle(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path()
        .strip_prefix(SITE_PREFIX)
        .filter(|rest| !rest.is_empty())
        .unwrap_or("/")
        .to_owned();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
                .into_response();
        }
    };
    let (auth, caller) = authenticate(
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
        &shared.admin_key,
        &shared.tokens,
    );
    let method = parts.method.as_str().to_owned();
    lock(&shared.recorder).record_http(RecordedHttpRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .filter(|(name, _)| *name != axum::http::header::AUTHORIZATION)
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        auth,
    });
    let Some(handler) = shared.routes.find(&method, &path) else {
        // What a deployment answers for a path no route matches.
        return (StatusCode::NOT_FOUND, "No matching routes found").into_response();
    };
    let request = HttpActionRequest {
        method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        identity: caller.ok().and_then(|caller| caller.identity),
    };
    // On its own task, as a function runs: a panic is a 500, not a dropped connection.
    match tokio::spawn(handler(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the HTTP action's handler panicked",
        )
            .into_response(),
    }
}
