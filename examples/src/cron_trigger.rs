//! An endpoint a scheduler calls to run a long action.
//!
//! `POST /api/cron/daily-digest` with the header `x-cron-secret` runs the action
//! `notifications:sendDailyDigests` and answers `{"sent": n}`. A missing or wrong secret is answered 401; the
//! secret is compared in constant time, so that response times do not reveal how much of a guess was right.

use crate::api;
use crate::error_handling::{ApiError, reject};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// How long the digest action may run: actions may take minutes, longer than the default timeout of a call.
pub const DIGEST_TIMEOUT: Duration = Duration::from_secs(300);

/// What the route needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
    /// The secret the scheduler sends (`CRON_SECRET`); must not be empty.
    pub cron_secret: convex::Secret,
}

/// The route: `POST /api/cron/daily-digest`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/cron/daily-digest", post(daily_digest))
        .with_state(state)
}

async fn daily_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let provided = headers
        .get("x-cron-secret")
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    // `ct_eq` takes the same time whatever the bytes; only the length can show. An empty secret never matches.
    let secret = state.cron_secret.expose().as_bytes();
    let authorized = !secret.is_empty() && bool::from(provided.ct_eq(secret));
    if !authorized {
        return Ok(reject(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let sent = api::send_daily_digests()
        .on(&state.convex)
        .timeout(DIGEST_TIMEOUT)
        .await?;
    tracing::info!(sent, "daily digests sent");
    Ok(Json(json!({ "sent": sent })).into_response())
}
