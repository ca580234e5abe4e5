//! Routes that call a query, a mutation and an action: the seed's `fetchQuery`, `fetchMutation` and
//! `fetchAction` from server routes.
//!
//! - `GET /api/posts?status=published` → the posts, from the query `posts:list`;
//! - `POST /api/tasks/complete` with `{"taskId": "…"}` → `{"success": true}`, by the mutation `tasks:complete`;
//! - `POST /api/reports` with `{"month": 11, "year": 2025}` → the report the action `reports:generate` builds.

use crate::api::{self, Post, Report, Status, Task};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use convex::value::{Document, Id};
use serde::Deserialize;
use serde_json::json;

/// What the routes need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/posts", get(list_posts))
        .route("/api/tasks/complete", post(complete_task))
        .route("/api/reports", post(generate_report))
        .with_state(state)
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<Status>,
}

async fn list_posts(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<Document<Post>>>, convex::Error> {
    let posts = api::list_posts(params.status).on(&state.convex).await?;
    Ok(Json(posts))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteBody {
    task_id: Id<Task>,
}

async fn complete_task(
    State(state): State<AppState>,
    Json(body): Json<CompleteBody>,
) -> Result<Json<serde_json::Value>, convex::Error> {
    api::complete_task(body.task_id).on(&state.convex).await?;
    Ok(Json(json!({ "success": true })))
}

#[derive(Deserialize)]
struct ReportBody {
    month: u8,
    year: u16,
}

async fn generate_report(
    State(state): State<AppState>,
    Json(body): Json<ReportBody>,
) -> Result<Json<Report>, convex::Error> {
    let report = api::generate_report(body.month, body.year)
        .on(&state.convex)
        .await?;
    Ok(Json(report))
}
