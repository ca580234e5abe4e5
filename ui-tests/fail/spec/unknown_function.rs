// A function the spec does not have: the closest names, at the path.
#[convex::query("posts:lst", spec = "specs/checked.json")]
pub async fn list_posts(limit: f64) -> Vec<String>;

fn main() {}
