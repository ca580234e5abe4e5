// A spec that cannot be read: one error that says how to make one.
#[convex::query("posts:list", spec = "specs/missing.json")]
pub async fn list_posts(limit: f64) -> Vec<String>;

fn main() {}
