//! The JS deployment's front: a server on `127.0.0.1` that records each request, applies latency and
//! faults as the Rust test deployment does, and forwards the request to the Node server, answering with its
//! answer unchanged. Its state is a [`Shared`] whose `upstream` is the Node server, so that the sync
//! sessions it serves on `/api/sync` share its recorder, credentials and commits; every request that may
//! have written (anything but a query) wakes them once answered.

use crate::conn::Connection;
use crate::fault::{Fault, arrive, truncated_body};
use crate::lock;
use crate::request::record_forwarded;
use crate::shared::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// The largest request body forwarded; Convex itself limits args to 16 MiB.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Headers that belong to one connection, not to the request or answer passed on.
fn hop_by_hop(name: &HeaderName) -> bool {
    [HOST, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING].contains(name)
}

/// Serves every request: latency and faults around forwarding it.
pub(crate) async fn handle(State(front): State<Arc<Shared>>, request: Request) -> Response {
    let (connection, fault) = arrive(request.extensions(), &front.faults, &front.latency).await;
    let Some(upstream) = &front.upstream else {
        return system(
            StatusCode::INTERNAL_SERVER_ERROR,
            "TestDeploymentError",
            "the JS deployment's front has no Node server",
        );
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(err) => {
            return system(
                StatusCode::BAD_REQUEST,
                "BadJsonBody",
                &format!("Failed to read the request body: {err}"),
            );
        }
    };
    if let Some(call) = record_forwarded(
        &parts.method,
        parts.uri.path(),
        &parts.headers,
        &body,
        &front.admin_key,
        &front.tokens,
    ) {
        lock(&front.recorder).record(call);
    }
    match &fault {
        Some(Fault::Status {
            status,
            body,
            content_type,
            headers,
        }) => return fault_answer(*status, body, content_type, headers),
        Some(Fault::DropConnection) => return drop_connection(connection.as_ref()),
        _ => {}
    }
    let path_and_query = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let may_write = !is_query(parts.uri.path());
    let mut forwarded = upstream
        .http
        .request(parts.method, format!("{}{path_and_query}", upstream.url))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = match forwarded.send().await {
        Ok(answer) => answer,
        Err(err) => return unreachable(&err),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = match answer.bytes().await {
        Ok(bytes) => bytes.to_vec(),
        Err(err) => return unreachable(&err),
    };
    if may_write {
        front.commit();
    }
    match fault {
        Some(Fault::DropAfterRun) => drop_connection(connection.as_ref()),
        Some(Fault::TruncatedBody) => {
            let length = bytes.len();
            let mut response = respond(status, &headers, truncated_body(bytes));
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
            response
        }
        _ => respond(status, &headers, Body::from(bytes)),
    }
}

/// Whether a request to `path` only reads: a query endpoint (`/api/run/…` and `/api/function` may name a
/// mutation).
fn is_query(path: &str) -> bool {
    [
        "/api/query",
        "/api/query_ts",
        "/api/query_at_ts",
        "/api/query_batch",
    ]
    .contains(&path)
}

fn respond(status: StatusCode, headers: &HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in headers {
        if !hop_by_hop(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

fn system(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The Node server did not answer: it crashed or was stopped.
fn unreachable(err: &reqwest::Error) -> Response {
    system(
        StatusCode::BAD_GATEWAY,
        "TestDeploymentError",
        &format!("the Node server of the JS deployment did not answer: {err}"),
    )
}

fn fault_answer(
    status: u16,
    body: &str,
    content_type: &str,
    headers: &[(String, String)],
) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Kills the connection: the response returned here is never written.
fn drop_connection(connection: Option<&Connection>) -> Response {
    match connection {
        Some(connection) => {
            connection.kill();
            system(StatusCode::INTERNAL_SERVER_ERROR, "ConnectionDropped", "")
        }
        None => system(
            StatusCode::INTERNAL_SERVER_ERROR,
            "TestDeploymentError",
            "the JS deployment could not drop this connection",
        ),
    }
}
