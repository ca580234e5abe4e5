//! The quick start: a query, a mutation, an action, an authenticated call and a handled `ConvexError`, on
//! the default client (`convex::set_default_client`, or `CONVEX_URL`).
//!
//! `cargo run -p examples --example quickstart` runs it against the functions of `examples/convex` run on
//! this machine (or the Rust demo deployment without Node.js), or against yours when `CONVEX_URL` is set
//! (with `examples/convex` deployed; set `CONVEX_AUTH_TOKEN` to a user's JWT for the authenticated call).

use crate::Failure;
use crate::api::{self, Status};
use convex::FetchOptions;
use serde::Deserialize;
use std::io::Write;

/// The data the example functions throw with `ConvexError`.
#[derive(Debug, Deserialize)]
pub struct AppError {
    /// A stable code to branch on: `EMPTY_TEXT`, `TASK_NOT_FOUND`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

/// Runs the calls, writing a line about each to `out`. `token` is a user's JWT for the authenticated call,
/// which is skipped without one.
pub async fn run(out: &mut impl Write, token: Option<&str>) -> Result<(), Failure> {
    // A query. The args and the result are typed by the stub in `api`.
    let posts = api::list_posts(Some(Status::Published)).await?;
    let titles: Vec<&str> = posts.iter().map(|post| post.title.as_str()).collect();
    writeln!(
        out,
        "query    posts:list        → {} published posts: {titles:?}",
        posts.len()
    )?;

    // Mutations: create a task, then complete it by the id the first one returned.
    let task = api::create_task("Try convex-fetch".into()).await?;
    writeln!(out, "mutation tasks:create      → {task}")?;
    api::complete_task(task).await?;
    writeln!(out, "mutation tasks:complete    → done")?;

    // An action.
    let report = api::generate_report(6, 2025).await?;
    writeln!(
        out,
        "action   reports:generate  → {}/{}: {} posts published, {} tasks completed so far",
        report.month, report.year, report.posts_published, report.tasks_completed
    )?;

    // An authenticated call, in the seed's form `fetchQuery(url, api.users.me, {}, { authToken })`: the args
    // struct `Me` is the typed reference to the function. (`api::me().auth(token).await` is the same call.)
    match token {
        Some(token) => {
            let url = convex::default_client()?.url().to_owned();
            let me =
                convex::fetch_query(url, api::MeQuery {}, FetchOptions::new().auth(token)).await?;
            writeln!(
                out,
                "query    users:me          → {} ({}), from the token",
                me.name, me.subject
            )?;
        }
        None => writeln!(
            out,
            "query    users:me          → skipped: set CONVEX_AUTH_TOKEN to a user's JWT"
        )?,
    }

    // A ConvexError thrown on purpose: its data comes back typed; a server answers it with 400.
    match api::create_task("   ".into()).await {
        Err(err) => match err.data::<AppError>() {
            Some(Ok(data)) => writeln!(
                out,
                "mutation tasks:create      → ConvexError {}: {:?}, which a handler answers with {}",
                data.code,
                data.message,
                err.status_code()
            )?,
            _ => return Err(err.into()),
        },
        Ok(id) => writeln!(
            out,
            "mutation tasks:create      → a blank task was accepted: {id}"
        )?,
    }
    Ok(())
}
