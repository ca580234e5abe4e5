//! File storage through a server: `POST /api/files` streams the request's body to Convex file storage and
//! answers `{"storageId": …}`; `GET /api/files/{id}` streams the stored file back.
//!
//! The upload takes Convex's steps in one: the mutation `files:generateUploadUrl` (which returns
//! `ctx.storage.generateUploadUrl()`) gives the upload URL, and [`convex::Client::upload`] POSTs the body
//! there as it arrives, never holding the whole file in memory. The download asks the query `files:getUrl`
//! for the file's URL and streams it with [`convex::Client::download`]. Files over [`MAX_FILE_BYTES`] are
//! refused with 413.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use convex::value::Id;
use convex::{Storage, UploadBody};
use convex_fetch_testing::TestDeployment;
use serde_json::json;
use std::time::Duration;

/// The largest file the routes accept: set on the client with `max_file_bytes`.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// How long one upload may take.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// What the routes need.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Convex deployment, built with `.max_file_bytes(MAX_FILE_BYTES)`.
    pub convex: convex::Client,
}

/// A client of the deployment at `url` with the routes' file limit.
pub fn client(url: &str) -> Result<convex::Client, convex::Error> {
    convex::Client::builder(url)
        .max_file_bytes(MAX_FILE_BYTES)
        .build()
}

/// The routes: `POST /api/files` and `GET /api/files/{id}`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/files", post(upload))
        .route("/api/files/{id}", get(download))
        .with_state(state)
}

async fn upload(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, convex::Error> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = UploadBody::stream(request.into_body().into_data_stream());
    if let Some(length) = length {
        body = body.with_length(length);
    }
    let upload_url = state
        .convex
        .mutation::<_, String>("files:generateUploadUrl", json!({}));
    let id: Id<Storage> = state
        .convex
        .upload(upload_url, body, &content_type)
        .timeout(UPLOAD_TIMEOUT)
        .await?;
    tracing::info!(storage_id = %id, "file stored");
    Ok((StatusCode::CREATED, Json(json!({ "storageId": id }))).into_response())
}

async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, convex::Error> {
    let url: Option<String> = state
        .convex
        .query("files:getUrl", json!({ "storageId": id }))
        .await?;
    let Some(url) = url else {
        return Ok((
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such file" })),
        )
            .into_response());
    };
    let file = state.convex.download(&url).await?;
    let content_type = file
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut response = Body::from_stream(file).into_response();
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    Ok(response)
}

/// A stand-in deployment in Rust with the two functions of file storage: `files:generateUploadUrl` and
/// `files:getUrl`, served by the test deployment's file storage.
pub async fn local_deployment() -> TestDeployment {
    TestDeployment::builder()
        .upload_url_mutation("files:generateUploadUrl")
        .file_url_query("files:getUrl")
        .start()
        .await
}
