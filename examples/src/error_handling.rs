//! Turning a failed Convex call into an HTTP answer, once for every handler.
//!
//! [`ApiError`] wraps [`convex::Error`] and implements `IntoResponse`, so handlers return
//! `Result<_, ApiError>` and use `?` on calls. The status comes from [`convex::Error::status_code`]:
//!
//! - a `ConvexError` the function threw → **400**, with its data as the body: it was meant for the caller;
//! - Convex unreachable, or an answer that is not what was declared → **502**;
//! - no answer in time → **504**;
//! - anything else (a function that crashed, a misconfiguration) → its status, with a generic body: the
//!   details are logged, not sent to the client.

use crate::api;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// A failed Convex call, as an answer: `Result<_, ApiError>` in a handler, `?` on the call.
#[derive(Debug)]
pub struct ApiError(pub convex::Error);

impl From<convex::Error> for ApiError {
    fn from(err: convex::Error) -> Self {
        ApiError(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status_code();
        if let convex::Error::Function {
            data: Some(data), ..
        } = &self.0
        {
            // `throw new ConvexError({ code, message })`: the function meant the caller to see this. The data
            // keeps its Convex types; the caller gets Convex's plain `json` form of it (an int64 as its
            // decimal string, bytes as base64), not the wire encoding.
            return (status, Json(json!({ "error": data.to_clean_json() }))).into_response();
        }
        tracing::error!(error = %self.0, "Convex call failed");
        let reason = status.canonical_reason().unwrap_or("error");
        (status, Json(json!({ "error": { "message": reason } }))).into_response()
    }
}

/// A plain error answer: `{"error": {"message": …}}` with `status`.
pub(crate) fn reject(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

/// What the routes need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
}

/// `POST /api/tasks` with `{"text": "…"}` → `{"id": "…"}`, or the error mapped by [`ApiError`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/tasks", post(create_task))
        .with_state(state)
}

#[derive(Deserialize)]
struct NewTask {
    text: String,
}

async fn create_task(
    State(state): State<AppState>,
    Json(task): Json<NewTask>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = api::create_task(task.text).on(&state.convex).await?;
    Ok(Json(json!({ "id": id })))
}
