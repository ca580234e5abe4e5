// Stubs and inline calls that agree with the function spec, with the user's own types (which a macro cannot
// see, so they are accepted), and `unchecked` for a function not deployed yet.
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
}

#[derive(Deserialize)]
pub struct Post {
    pub title: String,
}

/// The posts.
#[convex::query("posts:list", spec = "specs/checked.json")]
pub async fn list_posts(limit: u32, status: Option<Status>) -> Vec<Post>;

#[convex::query("posts:count", spec = "specs/checked.json")]
pub async fn count_posts() -> f64;

#[convex::mutation("posts:create", spec = "specs/checked.json")]
pub async fn create_post(
    title: String,
    tags: Vec<String>,
    views: convex::value::Int64,
    subtitle: convex::value::Value,
) -> convex::value::Id<Posts>;

pub struct Posts;

#[convex::mutation("admin:purge", spec = "specs/checked.json")]
pub async fn purge();

#[convex::action("stats:run", spec = "specs/checked.json")]
pub async fn run_stats(anything: Vec<bool>) -> convex::value::Value;

#[convex::query("posts:notYetDeployed", spec = "specs/checked.json", unchecked)]
pub async fn not_yet() -> String;

async fn inline() -> Result<(), convex::Error> {
    let _: f64 = convex::convex_fetch!(query "posts:count", {}, spec = "specs/checked.json").await?;
    Ok(())
}

fn main() {
    let _ = (list_posts(3, None), count_posts(), purge(), not_yet(), inline());
    let _ = create_post(
        "t".into(),
        vec![],
        convex::value::Int64(1),
        convex::value::Value::Null,
    );
    let _ = run_stats(vec![true]);
}
