// A required arg without a parameter: named with its validator, at the function's name.
#[convex::query("posts:list", spec = "specs/checked.json")]
pub async fn list_posts() -> Vec<convex::value::Value>;

fn main() {}
