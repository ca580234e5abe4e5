//! The names a stub generates stay off the user's own: the args struct is the function's name in PascalCase
//! followed by its kind, so `fn post` beside `struct Post` and `fn create_task` beside an axum body type
//! `CreateTask` both compile. `derive(…)` adds traits to the args struct.

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct Post {
    pub title: String,
}

/// The request body of an HTTP handler, as axum apps usually name it.
#[derive(Debug, Deserialize)]
pub struct CreateTask {
    pub title: String,
}

#[convex::query("posts:get")]
pub async fn post(id: String) -> Post;

#[convex::mutation("tasks:create", derive(Debug, Clone, PartialEq, Deserialize))]
pub async fn create_task(title: String, due_at: Option<i64>) -> String;

#[convex::action("reports:generate", derive(Debug, serde::Deserialize))]
pub async fn generate(month: u8);

// Stubs named like std types generate `StringQuery` and `OptionQuery`: nothing of std is shadowed.
#[convex::query("util:string")]
pub async fn string() -> String;

#[convex::query("util:option")]
pub async fn option(value: Option<u32>) -> Option<u32>;

fn main() {
    let _: Option<String> = Option::Some(String::new());
    let _ = (string(), option(None), StringQuery {}, OptionQuery { value: Some(1) });
    let _ = post("p1".into());
    let body = CreateTask { title: "Write docs".into() };
    let args = CreateTaskMutation { title: body.title, due_at: None };
    // The derived `Deserialize` reads the wire names, as a handler of the test deployment receives them.
    let read: CreateTaskMutation = serde_json::from_str(r#"{"title":"Write docs","dueAt":5}"#).unwrap();
    assert_eq!(read, CreateTaskMutation { title: "Write docs".into(), due_at: Some(5) });
    let missing: CreateTaskMutation = serde_json::from_str(r#"{"title":"x"}"#).unwrap();
    assert_eq!(missing.due_at, None);
    assert_eq!(format!("{:?}", args.clone()), r#"CreateTaskMutation { title: "Write docs", due_at: None }"#);
    let report: GenerateAction = serde_json::from_str(r#"{"month":3}"#).unwrap();
    assert_eq!(report.month, 3);
    let _ = (generate(1), Serialize::serialize(&args, serde_json::value::Serializer));
}
