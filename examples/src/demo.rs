//! The demo deployment: the functions of [`crate::api`] written in Rust and served in-process by
//! [`convex_fetch_testing::TestDeployment`], so that every example runs without a Convex account.
//!
//! It holds a few posts, tasks and users in memory. Seeded ids are predictable: the tasks are
//! [`FIRST_TASK_ID`] and `"task_2"`. Calls with the bearer token [`DEMO_USER_TOKEN`] run as Ada (`user_1`).

use crate::api::{NewIssue, Post, Profile, Report, Status, Task};
use convex::value::{Document, Id};
use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// A bearer token the demo deployment accepts, as the user `user_1`, named Ada.
pub const DEMO_USER_TOKEN: &str = "demo-user-token";

/// The session cookie value the demo token endpoint accepts.
pub const DEMO_SESSION: &str = "demo-session";

/// The id of the first seeded task, "Write the quickstart", not completed.
pub const FIRST_TASK_ID: &str = "task_1";

/// Starts the demo deployment on a free port of 127.0.0.1. It serves until the returned value is dropped.
pub async fn start() -> TestDeployment {
    let db = Arc::new(Mutex::new(Db::seeded()));
    TestDeployment::builder()
        .query("posts:list", run(&db, list_posts))
        .query("users:me", run(&db, me))
        .mutation("tasks:create", run(&db, create_task))
        .mutation("tasks:complete", run(&db, complete_task))
        .action("reports:generate", run(&db, generate_report))
        .mutation("subscriptions:activate", run(&db, activate_subscription))
        .mutation("subscriptions:cancel", run(&db, cancel_subscription))
        .action(
            "notifications:sendDailyDigests",
            run(&db, send_daily_digests),
        )
        .mutation("analytics:recordPageView", run(&db, record_page_view))
        .mutation("issues:importMany", run(&db, import_issues))
        .token(
            DEMO_USER_TOKEN,
            json!({ "subject": "user_1", "name": "Ada", "issuer": "https://auth.demo.invalid" }),
        )
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
    /// Stripe subscription id → (user id, active).
    subscriptions: BTreeMap<String, (String, bool)>,
    users: Vec<Profile>,
    page_views: u64,
    /// GitHub id → title.
    issues: BTreeMap<i64, String>,
}

impl Db {
    fn seeded() -> Db {
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivateArgs {
    user_id: String,
    stripe_subscription_id: String,
}

fn activate_subscription(db: &mut Db, _: &Ctx, args: ActivateArgs) -> Result<(), FunctionError> {
    db.subscriptions
        .insert(args.stripe_subscription_id, (args.user_id, true));
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelArgs {
    stripe_subscription_id: String,
}

fn cancel_subscription(db: &mut Db, _: &Ctx, args: CancelArgs) -> Result<(), FunctionError> {
    // Idempotent: Stripe may deliver an event more than once.
    if let Some((_, active)) = db.subscriptions.get_mut(&args.stripe_subscription_id) {
        *active = false;
    }
    Ok(())
}

fn send_daily_digests(
    db: &mut Db,
    ctx: &Ctx,
    _: convex::value::Value,
) -> Result<u64, FunctionError> {
    for user in &db.users {
        ctx.log(format!("digest sent to {}", user.name));
    }
    Ok(db.users.len() as u64)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageViewArgs {
    path: String,
}

fn record_page_view(db: &mut Db, ctx: &Ctx, args: PageViewArgs) -> Result<(), FunctionError> {
    db.page_views += 1;
    ctx.log(format!("page view {}", args.path));
    Ok(())
}

#[derive(Deserialize)]
struct ImportArgs {
    issues: Vec<NewIssue>,
}

fn import_issues(db: &mut Db, _: &Ctx, args: ImportArgs) -> Result<u64, FunctionError> {
    for issue in &args.issues {
        db.issues.insert(issue.github_id.0, issue.title.clone());
    }
    Ok(args.issues.len() as u64)
}
