//! Typed stubs and `convex_fetch!` against the test deployment: the args object on the wire, the endpoint of
//! each kind, per-call options, decoded results.

use std::time::Duration;

use convex::value::{Document, Id, Int64};
use convex::{Client, Error, ErrorKind, FetchOptions, FunctionKind};
use convex_fetch_testing::{Auth, Ctx, FunctionError, TestDeployment};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub title: String,
    pub status: Status,
    pub views: i64,
}

#[derive(Debug)]
pub struct Tasks;

/// A post as the deployment stores it, with its int64 view count.
#[derive(Serialize)]
struct StoredPost {
    #[serde(rename = "_id")]
    id: &'static str,
    #[serde(rename = "_creationTime")]
    creation_time: f64,
    title: &'static str,
    status: String,
    views: Int64,
}

#[convex::query("posts:list")]
pub async fn list_posts(status: Option<Status>, max_items: Option<u32>) -> Vec<Document<Post>>;

#[convex::mutation("tasks:complete")]
pub async fn complete_task(task_id: Id<Tasks>, note: Option<String>);

#[convex::action("reports:generate")]
pub async fn generate_report(month: u8, year: u16) -> String;

#[convex::query("users:whoami")]
pub async fn whoami() -> Option<String>;

#[convex::mutation("counters:add")]
pub async fn add(amount: Int64) -> i64;

const TOKEN: &str = "user-token";

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, args: Value| async move {
            let status = args
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("published");
            Ok(vec![StoredPost {
                id: "p1",
                creation_time: 1_700_000_000_000.0,
                title: "Hello",
                status: status.to_owned(),
                views: Int64(42),
            }])
        })
        .mutation(
            "tasks:complete",
            |_ctx: Ctx, _args: Value| async move { Ok(()) },
        )
        .action("reports:generate", |_ctx: Ctx, args: Value| async move {
            Ok(format!("report {}/{}", args["month"], args["year"]))
        })
        .query("users:whoami", |ctx: Ctx, _args: Value| async move {
            Ok(ctx
                .identity()
                .and_then(|id| id["subject"].as_str().map(str::to_owned)))
        })
        .mutation("counters:add", |_ctx: Ctx, args: AddArgs| async move {
            args.amount
                .0
                .checked_add(1)
                .map(Int64)
                .ok_or_else(|| FunctionError::convex("overflow"))
        })
        .token(TOKEN, json!({ "subject": "user_1" }))
        .start()
        .await
}

#[derive(Deserialize)]
struct AddArgs {
    amount: Int64,
}

#[tokio::test]
async fn stubs_send_the_args_object_convex_expects_and_decode_results() {
    let deployment = deployment().await;
    let client = deployment.client();

    let posts = list_posts(Some(Status::Draft), None)
        .on(&client)
        .await
        .unwrap();
    assert_eq!(posts[0].id, Id::new("p1"));
    assert_eq!(posts[0].views, 42, "an int64 result decodes into i64");
    assert_eq!(posts[0].status, Status::Draft);

    complete_task(Id::new("t1"), None)
        .on(&client)
        .await
        .unwrap();
    let report = generate_report(11, 2026).on(&client).await.unwrap();
    assert_eq!(report, "report 11/2026");
    assert_eq!(
        add(Int64(i64::MAX - 1)).on(&client).await.unwrap(),
        i64::MAX
    );
    assert!(matches!(
        add(Int64(i64::MAX))
            .on(&client)
            .await
            .map_err(Error::into_kind),
        Err(ErrorKind::Function { .. })
    ));

    let calls = deployment.calls();
    let seen: Vec<_> = calls
        .iter()
        .map(|c| (c.kind, c.path.as_str(), c.args.clone()))
        .collect();
    assert_eq!(
        seen[0],
        (
            FunctionKind::Query,
            "posts:list",
            convex::value!({ "status": "draft" })
        )
    );
    assert_eq!(
        seen[1],
        (
            FunctionKind::Mutation,
            "tasks:complete",
            convex::value!({ "taskId": "t1" })
        )
    );
    assert_eq!(
        seen[2],
        (
            FunctionKind::Action,
            "reports:generate",
            convex::value!({ "month": 11, "year": 2026 })
        )
    );
    // i64::MAX - 1, sent as an int64 and recorded as one.
    assert_eq!(seen[3].2, convex::value!({ "amount": i64::MAX - 1 }));
}

#[tokio::test]
async fn per_call_options_are_honoured() {
    let deployment = deployment().await;

    // `.url(…)` picks a cached client for that deployment; `.auth` sends the user's token.
    let me = whoami().url(deployment.url()).auth(TOKEN).await.unwrap();
    assert_eq!(me.as_deref(), Some("user_1"));
    let anonymous = whoami().url(deployment.url()).await.unwrap();
    assert_eq!(anonymous, None);
    whoami()
        .url(deployment.url())
        .admin_key(deployment.admin_key())
        .verbose()
        .await
        .unwrap();

    let auths: Vec<_> = deployment.calls().into_iter().map(|c| c.auth).collect();
    assert!(matches!(&auths[0], Auth::Bearer { token, .. } if token == TOKEN));
    assert!(matches!(auths[1], Auth::None));
    assert!(matches!(auths[2], Auth::Admin));

    // A client's default token applies unless the call sets its own.
    let client = Client::builder(deployment.url())
        .auth(TOKEN)
        .build()
        .unwrap();
    assert_eq!(
        whoami().on(&client).await.unwrap().as_deref(),
        Some("user_1")
    );

    // `.timeout` bounds the call.
    deployment.set_latency(Duration::from_secs(5));
    let err = whoami()
        .on(&client)
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn seed_functions_and_inline_calls_take_the_same_references() {
    let deployment = deployment().await;
    let url = deployment.url();

    let posts = convex::fetch_query(
        url,
        ListPostsQuery {
            status: None,
            max_items: Some(5),
        },
        FetchOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(posts.len(), 1);
    convex::fetch_mutation(
        url,
        CompleteTaskMutation {
            task_id: Id::new("t2"),
            note: Some("done".into()),
        },
        FetchOptions::new(),
    )
    .await
    .unwrap();
    let me = convex::fetch_query(url, WhoamiQuery {}, FetchOptions::new().auth(TOKEN))
        .await
        .unwrap();
    assert_eq!(me.as_deref(), Some("user_1"));

    let status = "published";
    let titles: Vec<Document<Post>> =
        convex::convex_fetch!(query "posts:list", { status, "maxItems": 2 }, url = url)
            .await
            .unwrap();
    assert_eq!(titles[0].title, "Hello");
    let me: Option<String> =
        convex::convex_fetch!(query "users:whoami", {}, url = url, auth = TOKEN)
            .await
            .unwrap();
    assert_eq!(me.as_deref(), Some("user_1"));
    let report = convex::convex_fetch!(
        GenerateReportAction {
            month: 1,
            year: 2027
        },
        url = url
    )
    .await
    .unwrap();
    assert_eq!(report, "report 1/2027");

    let args: Vec<_> = deployment.calls().into_iter().map(|c| c.args).collect();
    assert_eq!(args[0], convex::value!({ "maxItems": 5 }));
    assert_eq!(args[1], convex::value!({ "taskId": "t2", "note": "done" }));
    assert_eq!(args[2], convex::value!({}));
    assert_eq!(
        args[3],
        convex::value!({ "status": "published", "maxItems": 2 })
    );
}

/// It installs the default client, which is process-wide: it runs in a process of its own.
#[tokio::test]
async fn the_default_client_is_used_when_none_is_given() {
    if !crate::support::alone(
        module_path!(),
        "the_default_client_is_used_when_none_is_given",
    ) {
        return;
    }
    let deployment = deployment().await;
    let default = Client::builder(deployment.url())
        .auth(TOKEN)
        .build()
        .unwrap();
    convex::set_default_client(default).unwrap();
    let posts = list_posts(None, None).await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(deployment.calls()[0].args, convex::value!({}));
    // The seed's form naming the default client's URL goes through it, with its settings (its token here).
    let me = convex::fetch_query(deployment.url(), WhoamiQuery {}, FetchOptions::new())
        .await
        .unwrap();
    assert_eq!(me.as_deref(), Some("user_1"));
    // It is set once; a second attempt is refused rather than silently replacing it.
    assert!(convex::set_default_client(deployment.client()).is_err());
}

#[convex::mutation("tasks:schedule", derive(Debug, Clone, PartialEq, Deserialize))]
async fn schedule_task(title: String, due_at: Option<Int64>) -> String;

#[tokio::test]
async fn a_handler_takes_the_stubs_own_args_type() {
    let deployment = TestDeployment::builder()
        .mutation(
            "tasks:schedule",
            |_ctx: Ctx, args: ScheduleTaskMutation| async move { Ok(format!("{args:?}")) },
        )
        .start()
        .await;
    let client = deployment.client();
    let seen = schedule_task("Ship".into(), Some(Int64(1 << 60)))
        .on(&client)
        .await
        .unwrap();
    assert_eq!(
        seen,
        r#"ScheduleTaskMutation { title: "Ship", due_at: Some(Int64(1152921504606846976)) }"#
    );
    let recorded: ScheduleTaskMutation = deployment.calls()[0].decode_args().unwrap();
    assert_eq!(
        recorded,
        ScheduleTaskMutation {
            title: "Ship".into(),
            due_at: Some(Int64(1 << 60))
        }
    );
    let untimed = schedule_task("Later".into(), None)
        .on(&client)
        .await
        .unwrap();
    assert!(untimed.contains("due_at: None"), "{untimed}");
}
