// A parameter the function does not take, also after `rename_all`: the closest arg, at the parameter.
#[convex::query("posts:list", spec = "specs/checked.json")]
pub async fn list_posts(limit: f64, statuss: Option<String>) -> Vec<convex::value::Value>;

#[convex::query("posts:list", spec = "specs/checked.json", rename_all = "snake_case")]
pub async fn list_posts_snake(limit: f64, post_status: Option<String>) -> Vec<convex::value::Value>;

fn main() {}
