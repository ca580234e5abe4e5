//! Every accepted `convex_fetch!` form.

use std::time::Duration;

use convex::value::to_vec;
use convex::output::Inferred;
use convex::{Call, Client, ConvexFunction, FunctionKind, Untyped};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Post {
    pub title: String,
}

#[convex::query("posts:list")]
pub async fn list_posts(status: Option<String>) -> Vec<Post>;

/// The runtime under another path, as a crate that re-exports it would have it.
pub mod sdk {
    pub use ::convex as runtime;
}

fn json<F: ConvexFunction>(f: &F) -> String {
    String::from_utf8(to_vec(f).unwrap()).unwrap()
}

fn kind<F: ConvexFunction>(_: &F) -> FunctionKind {
    F::KIND
}

async fn typed_output() -> Result<Vec<Post>, convex::Error> {
    // The output type is inferred from use.
    convex::convex_fetch!(query "posts:list", {}, url = "http://127.0.0.1:1").await
}

fn main() {
    let limit = 5;
    // Nothing uses the result here, so its type is written out; usually `let x: T = ….await?` gives it.
    let call: Call<Untyped<_, Vec<Post>, _>, Inferred> = convex::convex_fetch!(query "posts:list", { status: "published", "max-rows": 10, limit, r#type: 1.5 });
    assert_eq!(json(call.function()), r#"{"status":"published","max-rows":10,"limit":5,"type":1.5}"#);
    assert_eq!(call.function().path(), "posts:list");

    let token = String::from("jwt");
    let client = Client::new("http://127.0.0.1:1").unwrap();
    let call: Call<Untyped<_, (), _>, Inferred> = convex::convex_fetch!(mutation "tasks:complete", { id: "k1" }, auth = token, timeout = Duration::from_secs(1), verbose);
    assert_eq!(kind(call.function()), FunctionKind::Mutation);
    let call: Call<Untyped<_, u64, _>, Inferred> = convex::convex_fetch!(action "digest", {}, admin = "key", client = &client,);
    assert_eq!(kind(call.function()), FunctionKind::Action);
    assert_eq!(json(call.function()), "{}");
    let _: Call<Untyped<_, (), _>, Inferred> = convex::convex_fetch!(query "posts:list", {}, client = client.clone());

    // A directory name may hold dots; `crate = "…"` names the runtime through a re-export.
    let call: Call<Untyped<_, (), _>, Inferred> = convex::convex_fetch!(query "v1.api/posts:list", {}, crate = "crate::sdk::runtime");
    assert_eq!(call.function().path(), "v1.api/posts:list");

    // A typed reference's args literal: the compiler checks the field names and types.
    let call = convex::convex_fetch!(ListPostsQuery { status: None }, url = "http://127.0.0.1:1");
    assert_eq!(json(call.function()), "{}");

    drop(typed_output());
}
