//! Turning a failed Convex call into an HTTP answer: handlers return `Result<_, convex::Error>` and use `?`.
//!
//! With the crate's `axum` feature, [`convex::Error`] is a response. The status comes from
//! [`convex::Error::status_code`]:
//!
//! - a `ConvexError` the function threw → **400**, `{"error": message, "data": data}`: it was meant for the
//!   caller (the data in Convex's clean JSON: an int64 as its decimal string, bytes as base64);
//! - Convex unreachable, or an answer that is not what was declared → **502**;
//! - no answer in time → **504**;
//! - anything else (a function that crashed, a misconfiguration) → its status, with only its reason as the
//!   body (`{"error": "Internal Server Error"}`): the details go to `tracing`, not to the client.

use crate::api;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// An answer for a failure of the route's own (a bad request, another service down) in the same form as a
/// failed call's: `{"error": message}` with `status`.
pub(crate) fn reject(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// What the routes need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
}

/// `POST /api/tasks` with `{"text": "…"}` → `{"id": "…"}`, or the failed call as its answer.
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
) -> Result<Json<serde_json::Value>, convex::Error> {
    let id = api::create_task(task.text).on(&state.convex).await?;
    Ok(Json(json!({ "id": id })))
}
