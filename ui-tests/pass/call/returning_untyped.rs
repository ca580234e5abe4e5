//! The result type of a call named at run time is given with `.returning::<T>()`, `()` discarding it; writing
//! the type where the result goes does the same.

use convex::ConvexFunction;
use serde_json::json;

#[allow(dead_code)]
async fn calls(client: convex::Client) -> Result<(), convex::Error> {
    client.mutation("tasks:purge", json!({})).returning::<()>().await?;
    client.action("emails:send", json!({ "to": "a@example.com" })).returning::<()>().await?;
    let titles = client.query("posts:titles", json!({})).returning::<Vec<String>>().await?;
    let count = client.query("posts:count", json!({})).auth("token").returning::<u64>().await?;
    // Options chain on either side of `.returning`.
    let sent = client.action("emails:send", json!({})).returning::<bool>().verbose().await?;
    let _: (Vec<String>, u64, bool) = (titles, count, sent);

    // The type where the result goes, as before.
    let titles: Vec<String> = client.query("posts:titles", json!({})).await?;
    let _ = titles;

    // The untyped `convex_fetch!` is the same.
    convex::convex_fetch!(mutation "tasks:purge", {}).returning::<()>().await?;
    let n = convex::convex_fetch!(query "posts:count", {}).returning::<u64>().await?;
    let _: u64 = n;

    // A typed call decodes into another type with `.returning`, as before.
    let any = convex::fetch_query(
        "https://happy-otter-123.convex.cloud",
        convex::Untyped::<_, Vec<String>>::query("posts:titles", json!({})),
        convex::FetchOptions::new(),
    )
    .returning::<convex::value::Value>()
    .await?;
    let _ = any;
    Ok(())
}

fn main() {
    // The calls are only built, never sent: what is checked is that they compile with the types above.
    let client = convex::Client::new("https://happy-otter-123.convex.cloud").unwrap();
    let call = client.mutation("tasks:purge", json!({})).returning::<()>();
    assert_eq!(call.function().path(), "tasks:purge");
}
