// `convex_fetch!` is checked too: the function, its kind and the args object's keys.
async fn calls() -> Result<(), convex::Error> {
    let _: f64 = convex::convex_fetch!(query "posts:cont", {}, spec = "specs/checked.json").await?;
    let _: f64 = convex::convex_fetch!(mutation "posts:count", {}, spec = "specs/checked.json").await?;
    let _: convex::value::Value =
        convex::convex_fetch!(query "posts:list", { limt: 3.0 }, spec = "specs/checked.json").await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
