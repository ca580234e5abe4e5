//! Every accepted stub form, and the exact args object each one sends.

use convex::value::{Id, Int64, to_vec};
use convex::{ConvexFunction, FunctionKind};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Published,
}

#[derive(Deserialize)]
pub struct Post {
    pub title: String,
}

pub struct Tasks;

/// Lists posts.
#[convex::query("posts:list")]
pub async fn list_posts(status: Option<Status>, max_items: u32) -> Vec<Post>;

#[convex::mutation("tasks:complete")]
pub async fn complete_task(task_id: Id<Tasks>) -> ();

#[convex::mutation("tasks.js:purgeOld", name = PurgeArgs)]
pub(crate) async fn purge(older_than: Int64);

#[convex::action("admin/reports:generate", rename_all = "snake_case")]
async fn generate_report(month_of_year: u8, #[convex(rename = "yearNumber")] year: u16) -> serde_json::Value;

#[convex::query("stats")]
pub async fn stats() -> std::collections::BTreeMap<String, f64>;

#[convex::query("keywords:find")]
pub async fn keywords(r#type: String) -> Option<String>;

#[convex::query("posts:list", crate = "::convex")]
pub async fn explicit_crate(status: std::option::Option<Status>) -> Vec<Post>;

// A directory name may hold dots, as the backend allows.
#[convex::query("v1.api/posts:list")]
pub async fn list_v1_posts() -> Vec<Post>;

fn json<F: ConvexFunction>(f: &F) -> String {
    String::from_utf8(to_vec(f).unwrap()).unwrap()
}

fn main() {
    let call = list_posts(Some(Status::Published), 10);
    assert_eq!(call.function().path(), "posts:list");
    assert_eq!(json(call.function()), r#"{"status":"published","maxItems":10}"#);
    assert_eq!(json(list_posts(None, 1).function()), r#"{"maxItems":1}"#);
    assert_eq!(<ListPostsQuery as ConvexFunction>::KIND, FunctionKind::Query);

    let call = complete_task(Id::new("k1"));
    assert_eq!(json(call.function()), r#"{"taskId":"k1"}"#);
    assert_eq!(<CompleteTaskMutation as ConvexFunction>::KIND, FunctionKind::Mutation);

    assert_eq!(json(purge(Int64(7)).function()), r#"{"olderThan":{"$integer":"BwAAAAAAAAA="}}"#);
    assert_eq!(PurgeArgs { older_than: Int64(1) }.path(), "tasks.js:purgeOld");

    let call = generate_report(11, 2026);
    assert_eq!(json(call.function()), r#"{"month_of_year":11,"yearNumber":2026}"#);
    assert_eq!(<GenerateReportAction as ConvexFunction>::KIND, FunctionKind::Action);

    assert_eq!(json(stats().function()), "{}");
    assert_eq!(json(keywords("x".into()).function()), r#"{"type":"x"}"#);
    assert_eq!(json(explicit_crate(None).function()), "{}");
    assert_eq!(list_v1_posts().function().path(), "v1.api/posts:list");

    // The args struct is the typed reference the seed-style functions take.
    let _typed = convex::fetch_query("http://127.0.0.1:1", ListPostsQuery { status: None, max_items: 3 }, Default::default());
}
