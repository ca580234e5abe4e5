//! The Rust demo deployment: the quick start's functions (`posts:list`, `tasks:create`, `tasks:complete`,
//! `reports:generate`, `users:me`) written in Rust and served in-process by
//! [`convex_fetch_testing::TestDeployment`]. The quick start falls back to it when the TypeScript functions
//! of [`crate::local`] cannot run (no Node.js, or its packages not installed), so that it runs anywhere.
//!
//! It holds the same posts, tasks and users as `convex/init.ts`, in memory; task ids are `task_1`,
//! `task_2`, …. Calls with the bearer token [`DEMO_USER_TOKEN`] run as Ada (`user_1`).

use crate::api::{Post, Profile, Report, Status, Task};
use convex::value::{Document, Id};
use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use serde::Deserialize;
use serde_json::json;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// A bearer token the demo deployment accepts, as the user `user_1`, named Ada.
pub const DEMO_USER_TOKEN: &str = "demo-user-token";

/// The session cookie value the demo token endpoint accepts.
pub const DEMO_SESSION: &str = "demo-session";

/// The identity [`DEMO_USER_TOKEN`] stands for.
pub fn demo_identity() -> serde_json::Value {
    json!({ "subject": "user_1", "name": "Ada", "issuer": "https://auth.demo.invalid" })
}

/// Starts the Rust demo deployment on a free port of 127.0.0.1. It serves until the returned value is dropped.
pub async fn start() -> TestDeployment {
    let db = Arc::new(Mutex::new(Db::initial()));
    TestDeployment::builder()
        .query("posts:list", run(&db, list_posts))
        .query("users:me", run(&db, me))
        .mutation("tasks:create", run(&db, create_task))
        .mutation("tasks:complete", run(&db, complete_task))
        .action("reports:generate", run(&db, generate_report))
        .token(DEMO_USER_TOKEN, demo_identity())
        .start()
        .await
}

/// Serves a stand-in for Better Auth's token endpoint on a free port of 127.0.0.1, for as long as the runtime
/// runs, and returns its base URL (the `CONVEX_SITE_URL` to use). `GET /api/auth/convex/token` with the
/// cookie `better-auth.session_token=demo-session` answers `{"token": DEMO_USER_TOKEN}`; anything else, 401.
pub async fn start_token_endpoint() -> std::io::Result<String> {
    use axum::http::{HeaderMap, StatusCode, header::COOKIE};
    use axum::response::{IntoResponse, Response};

    async fn token(headers: HeaderMap) -> Response {
        let expected = format!(
            "{}={DEMO_SESSION}",
            crate::authenticated_route::SESSION_COOKIE
        );
        let cookie = headers.get(COOKIE).and_then(|v| v.to_str().ok());
        if cookie == Some(expected.as_str()) {
            axum::Json(json!({ "token": DEMO_USER_TOKEN })).into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({ "token": null })),
            )
                .into_response()
        }
    }

    crate::spawn(axum::Router::new().route("/api/auth/convex/token", axum::routing::get(token)))
        .await
}

/// The tables.
#[derive(Debug, Default)]
struct Db {
    posts: Vec<Document<Post>>,
    tasks: Vec<Document<Task>>,
    users: Vec<Profile>,
}

impl Db {
    fn initial() -> Db {
        let mut db = Db::default();
        for (title, status) in [
            ("Hello, Convex", Status::Published),
            ("Typed calls from Rust", Status::Published),
            ("Webhooks, the hard way", Status::Draft),
        ] {
            let id = format!("post_{}", db.posts.len() + 1);
            db.posts.push(document(
                id,
                Post {
                    title: title.into(),
                    status,
                    author: "Ada".into(),
                },
            ));
        }
        for text in ["Write the quickstart", "Review the webhook handler"] {
            db.tasks.push(document(
                db.next_task_id(),
                Task {
                    text: text.into(),
                    is_completed: false,
                },
            ));
        }
        db.users = vec![
            Profile {
                subject: "user_1".into(),
                name: "Ada".into(),
            },
            Profile {
                subject: "user_2".into(),
                name: "Grace".into(),
            },
        ];
        db
    }

    /// Ids are `task_1`, `task_2`, … (tasks are never deleted).
    fn next_task_id(&self) -> String {
        format!("task_{}", self.tasks.len() + 1)
    }
}

fn document<T>(id: String, fields: T) -> Document<T> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Document {
        id: Id::new(id),
        creation_time: now.as_secs_f64() * 1000.0,
        fields,
    }
}

/// Adapts a synchronous function over the tables into a handler of the test deployment.
fn run<A, O>(
    db: &Arc<Mutex<Db>>,
    function: fn(&mut Db, &Ctx, A) -> Result<O, FunctionError>,
) -> impl Fn(Ctx, A) -> Ready<Result<O, FunctionError>> + Send + Sync + 'static
where
    A: 'static,
    O: 'static,
{
    let db = Arc::clone(db);
    move |ctx, args| {
        let mut db = db.lock().unwrap_or_else(PoisonError::into_inner);
        ready(function(&mut db, &ctx, args))
    }
}

#[derive(Deserialize)]
struct ListPostsArgs {
    status: Option<Status>,
}

fn list_posts(
    db: &mut Db,
    _: &Ctx,
    args: ListPostsArgs,
) -> Result<Vec<Document<Post>>, FunctionError> {
    Ok(db
        .posts
        .iter()
        .filter(|post| args.status.is_none_or(|s| post.status == s))
        .cloned()
        .collect())
}

fn me(db: &mut Db, ctx: &Ctx, _: convex::value::Value) -> Result<Profile, FunctionError> {
    let subject = ctx
        .identity()
        .and_then(|identity| identity["subject"].as_str());
    let Some(subject) = subject else {
        return Err(FunctionError::convex(
            json!({ "code": "UNAUTHENTICATED", "message": "sign in first" }),
        ));
    };
    db.users
        .iter()
        .find(|user| user.subject == subject)
        .cloned()
        .ok_or_else(|| {
            FunctionError::convex(json!({ "code": "USER_NOT_FOUND", "message": "no such user" }))
        })
}

#[derive(Deserialize)]
struct CreateTaskArgs {
    text: String,
}

fn create_task(db: &mut Db, _: &Ctx, args: CreateTaskArgs) -> Result<Id<Task>, FunctionError> {
    if args.text.trim().is_empty() {
        return Err(FunctionError::convex(
            json!({ "code": "EMPTY_TEXT", "message": "a task needs some text" }),
        ));
    }
    let id = db.next_task_id();
    db.tasks.push(document(
        id.clone(),
        Task {
            text: args.text,
            is_completed: false,
        },
    ));
    Ok(Id::new(id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteTaskArgs {
    task_id: String,
}

fn complete_task(db: &mut Db, ctx: &Ctx, args: CompleteTaskArgs) -> Result<(), FunctionError> {
    let Some(task) = db
        .tasks
        .iter_mut()
        .find(|task| task.id.as_str() == args.task_id)
    else {
        return Err(FunctionError::convex(json!({
            "code": "TASK_NOT_FOUND",
            "message": format!("no task with id {}", args.task_id),
        })));
    };
    task.is_completed = true;
    ctx.log(format!("completed {}", args.task_id));
    Ok(())
}

#[derive(Deserialize)]
struct GenerateReportArgs {
    month: u8,
    year: u16,
}

fn generate_report(
    db: &mut Db,
    _: &Ctx,
    args: GenerateReportArgs,
) -> Result<Report, FunctionError> {
    if !(1..=12).contains(&args.month) {
        return Err(FunctionError::convex(
            json!({ "code": "INVALID_MONTH", "message": "month must be 1 to 12" }),
        ));
    }
    let published = db.posts.iter().filter(|p| p.status == Status::Published);
    let completed = db.tasks.iter().filter(|t| t.is_completed);
    Ok(Report {
        month: args.month,
        year: args.year,
        posts_published: published.count() as u64,
        tasks_completed: completed.count() as u64,
    })
}
