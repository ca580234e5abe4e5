//! An endpoint a scheduler calls to run a long action.
//!
//! `POST /api/cron/daily-digest` with the header `x-cron-secret` runs the action
//! `notifications:sendDailyDigests` and answers `{"sent": n}`. A missing or wrong secret is answered 401 by
//! the [`SharedSecret`] layer, which compares in constant time, so that response times do not reveal how much
//! of a guess was right.

use crate::api;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use convex::axum::SharedSecret;
use serde_json::{Value, json};
use std::time::Duration;

/// How long the digest action may run: actions may take minutes, longer than the default timeout of a call.
pub const DIGEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The route: `POST /api/cron/daily-digest`, guarded by `secret` (`SharedSecret::cron(CRON_SECRET)`).
pub fn router(convex: convex::Client, secret: SharedSecret) -> Router {
    Router::new()
        .route("/api/cron/daily-digest", post(daily_digest))
        .route_layer(secret)
        .with_state(convex)
}

async fn daily_digest(State(convex): State<convex::Client>) -> Result<Json<Value>, convex::Error> {
    let sent = api::send_daily_digests()
        .on(&convex)
        .timeout(DIGEST_TIMEOUT)
        .await?;
    tracing::info!(sent, "daily digests sent");
    Ok(Json(json!({ "sent": sent })))
}
