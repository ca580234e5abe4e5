//! Middleware that records page views with a mutation, without ever delaying the page.
//!
//! For each request outside `/api/`, [`track_page_views`] spawns the mutation `analytics:recordPageView` and
//! passes the request on at once: the seed's fire-and-forget `fetchMutation(…).catch(() => {})`. Two guards
//! keep a slow or failing deployment from hurting the site:
//!
//! - failures are logged with `tracing`, never returned to the visitor;
//! - at most `max_in_flight` recordings run at once (a semaphore); when all are busy the page view is dropped
//!   and counted ([`AppState::dropped_page_views`]) instead of piling up tasks and connections.

use crate::api;
use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long one recording may take before it is given up.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

/// What the middleware needs. Clones share the limit and the counter.
#[derive(Debug, Clone)]
pub struct AppState {
    convex: convex::Client,
    in_flight: Arc<Semaphore>,
    dropped: Arc<AtomicU64>,
}

impl AppState {
    /// Records page views on `convex`, at most `max_in_flight` at a time.
    pub fn new(convex: convex::Client, max_in_flight: usize) -> Self {
        AppState {
            convex,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many page views were dropped because `max_in_flight` recordings were already running.
    pub fn dropped_page_views(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Starts recording a page view in the background, or drops it when too many are in flight.
    fn record(&self, path: String, user_agent: String) {
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(%path, dropped, "page view dropped: too many recordings in flight");
            return;
        };
        let call = api::record_page_view(path, user_agent, crate::now_millis())
            .on(&self.convex)
            .timeout(RECORD_TIMEOUT);
        tokio::spawn(async move {
            if let Err(err) = call.await {
                tracing::warn!(error = %err, "page view not recorded");
            }
            drop(permit);
        });
    }
}

/// The middleware: `axum::middleware::from_fn_with_state(state, track_page_views)`.
pub async fn track_page_views(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") {
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        state.record(path.to_owned(), user_agent.to_owned());
    }
    next.run(request).await
}

/// A small site with the middleware: `GET /` and `GET /about` are tracked, `GET /api/health` is not.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { "Welcome" }))
        .route("/about", get(|| async { "About us" }))
        .route("/api/health", get(|| async { Json(json!({ "ok": true })) }))
        .layer(middleware::from_fn_with_state(state, track_page_views))
}
